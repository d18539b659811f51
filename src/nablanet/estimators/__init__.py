"""scikit-learn estimators built on nablanet: drop-in ``MLPClassifier``, ``MLPRegressor`` and
``Perceptron``.

Needs the ``sklearn`` extra (``pip install nablanet[sklearn]``)::

    from nablanet.estimators import MLPClassifier   # instead of sklearn.neural_network

``clf.save(path)`` writes a fitted estimator to a nablanet model file and
``from_model(path_or_sequential)`` wraps a model file (or a trained Sequential) as a fitted
estimator.
"""

from .classifier import MLPClassifier
from .model_files import from_model, save
from .perceptron import Perceptron
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "from_model", "save"]
