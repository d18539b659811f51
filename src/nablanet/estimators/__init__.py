"""scikit-learn estimators built on nablanet: drop-in ``MLPClassifier``, ``MLPRegressor`` and
``Perceptron``.

Needs the ``sklearn`` extra (``pip install nablanet[sklearn]``)::

    from nablanet.estimators import MLPClassifier   # instead of sklearn.neural_network

``clf.save(path)`` writes a fitted estimator to a nablanet model file and
``from_model(path_or_sequential)`` wraps a model file (or a trained Sequential) as a fitted
estimator.

Layout: :mod:`.classifier` (``MLPClassifier``, and the contract both MLP estimators share),
:mod:`.regressor` and :mod:`.perceptron` are the estimators. ``BaseMLP`` (:mod:`._base`) holds
what the MLPs share: parameters, the network, one step, inference. The solvers are methods of
the estimator, as scikit-learn's ``_fit_stochastic`` and ``_fit_lbfgs`` are methods of its
``BaseMultilayerPerceptron``: ``BaseMLP`` inherits them from the :class:`._solvers.Solvers`
mixin, whose head declares, typed, every estimator attribute they read or write. The estimator
owns all of its state. :mod:`._optimizers` holds scikit-learn's update rules, :mod:`._params`
the parameter checks, :mod:`._state` the restore-on-error rule. :mod:`.mlp` is the former name
of :mod:`.classifier`, kept so that estimators pickled before the rename still load.
"""

from .classifier import MLPClassifier
from .model_files import from_model, save
from .perceptron import Perceptron
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "from_model", "save"]
