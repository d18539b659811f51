"""The former name of :mod:`nablanet.estimators.classifier` (``MLPClassifier``) and
:mod:`nablanet.estimators.regressor` (``MLPRegressor``), kept as an alias.

Estimators pickled before the rename name their class ``nablanet.estimators.mlp.MLPClassifier``;
unpickling imports this module and finds the class here. New code imports from
:mod:`nablanet.estimators`.
"""

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
