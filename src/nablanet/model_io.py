"""Former home of Sequential model files; kept so that ``nablanet.model_io.load`` still works.

The code lives in :mod:`nablanet.saving` (:mod:`nablanet.saving.sequential` for these
functions, :mod:`nablanet.saving.schema` for the header checks).
"""

from .saving.container import ModelFileError
from .saving.schema import BIT_GENERATORS, MAX_LAYERS, MODEL_KIND, PREPROCESSORS, TASKS
from .saving.sequential import SavedModel, load, read_model, save

__all__ = [
    "BIT_GENERATORS",
    "MAX_LAYERS",
    "MODEL_KIND",
    "PREPROCESSORS",
    "TASKS",
    "ModelFileError",
    "SavedModel",
    "load",
    "read_model",
    "save",
]
