"""Figures for training curves, decision boundaries, weights, the network, activations and
predictions.

matplotlib is an optional extra (``pip install nablanet[plot]``) and is imported only inside the
functions. Everything uses the object-oriented API (``matplotlib.figure.Figure``), never pyplot's
global state, so figures do not leak between calls and no display is needed. Every function
returns the Figure; pass ``path`` to also write it to a file (PNG, 100 dpi).

One module per kind of figure:

- :mod:`~nablanet.plot.curves`: :func:`plot_history`, :func:`plot_activations`;
- :mod:`~nablanet.plot.boundary`: :func:`plot_decision_boundary`;
- :mod:`~nablanet.plot.weights`: :func:`plot_weights`;
- :mod:`~nablanet.plot.network`: :func:`plot_network` (units, edges, response maps);
- :mod:`~nablanet.plot.classes`: :func:`plot_confusion_matrix`, :func:`plot_images`.
"""

from nablanet.plot.boundary import plot_decision_boundary
from nablanet.plot.classes import plot_confusion_matrix, plot_images
from nablanet.plot.curves import plot_activations, plot_history
from nablanet.plot.network import plot_network
from nablanet.plot.weights import plot_weights

__all__ = [
    "plot_activations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "plot_images",
    "plot_network",
    "plot_weights",
]
