"""Backpropagation and the update, shown number by number, in the tutorials' notation.

:func:`explain` traces one forward and backward pass of a built
:class:`~nablanet.model.Sequential` on one sample (or a tiny batch): every ``z_k``, ``a_k``,
``dL/da_k``, ``delta_k``, ``dL/dW_k`` and ``dL/db_k``, each beside its central finite difference
and the equation it implements; :func:`trace` takes ``N`` steps of the model's optimizer and
records every update. ``print`` either record. Both work on a float64 copy of the model.

One concept per module:

- :mod:`~nablanet.explain.backprop`: :func:`explain`, the forward and backward records with
  their finite differences;
- :mod:`~nablanet.explain.steps`: :func:`trace`, the optimizer steps;
- :mod:`~nablanet.explain.records`: the dataclasses both return (:class:`Explanation`,
  :class:`LayerTrace`, :class:`Trace`, :class:`Step`, :class:`LayerUpdate`);
- :mod:`~nablanet.explain.text`: the equations and the printed text;
- :mod:`~nablanet.explain.notation`: seed 001's layer and equation numbers (seed 000's code
  lines for its own loss), decided from the network's depth, activations and loss;
- :mod:`~nablanet.explain.inputs`: the checks and the float64 copy both share.

Seed 001's worked 2-2-2 network (``nablanet explain --example seed001``) is
:func:`nablanet.tutorial.examples.seed001_example`, re-exported here; every ``--example``
(seeds 000, 001, 004) is in :mod:`nablanet.tutorial.worked`.
"""

from ..tutorial.examples import SEED001_LAYERS, SEED001_X, SEED001_Y, seed001_example
from .backprop import explain
from .inputs import MAX_SAMPLES, check_built, float64_copy
from .notation import notation_map
from .records import Explanation, LayerTrace, LayerUpdate, Step, Trace
from .steps import MAX_STEPS, trace

__all__ = [
    "MAX_SAMPLES",
    "MAX_STEPS",
    "SEED001_LAYERS",
    "SEED001_X",
    "SEED001_Y",
    "Explanation",
    "LayerTrace",
    "LayerUpdate",
    "Step",
    "Trace",
    "check_built",
    "explain",
    "float64_copy",
    "notation_map",
    "seed001_example",
    "trace",
]
