"""nablanet: multilayer perceptrons from scratch in NumPy, trained by backpropagation.

The public API is re-exported here::

    import nablanet as nn
    model = nn.Sequential.from_sizes([2, 4, 3, 1], ["relu", "relu", "sigmoid"],
                                     loss="binary_cross_entropy", lr=0.5, seed=0)
    history = model.fit(X, y, epochs=500)
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from . import (
    datasets,
    initializers,
    losses,
    optimizers,
    preprocessing,
    schedules,
    tutorial,  # noqa: F401  registers its layers and losses: model files name them
)
from .gradcheck import GradCheckReport, gradcheck
from .layers import (
    Dense,
    Dropout,
    Identity,
    Layer,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from .losses import get_loss
from .model import Sequential
from .optimizers import SGD, Adam, RMSProp, get_optimizer
from .perceptron import Perceptron
from .saving import SavedModel, load, read_model
from .training import (
    Callback,
    DivergenceWarning,
    EarlyStopping,
    History,
    ProgressBar,
    ProgressLogger,
    ReduceLROnPlateau,
)

# A library adds only a NullHandler to its logger; the application decides what is shown
# (the logging HOWTO, "Configuring Logging for a Library"). See nablanet._log.
logging.getLogger("nablanet").addHandler(logging.NullHandler())

try:
    __version__ = version("nablanet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "SGD",
    "Adam",
    "Callback",
    "Dense",
    "DivergenceWarning",
    "Dropout",
    "EarlyStopping",
    "GradCheckReport",
    "History",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Perceptron",
    "ProgressBar",
    "ProgressLogger",
    "RMSProp",
    "ReLU",
    "ReduceLROnPlateau",
    "SavedModel",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "__version__",
    "datasets",
    "get_activation",
    "get_loss",
    "get_optimizer",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "optimizers",
    "preprocessing",
    "read_model",
    "schedules",
]
