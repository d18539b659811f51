"""Callbacks, re-exported from :mod:`nablanet.training.callbacks`."""

from .training.callbacks import (
    Callback,
    EarlyStopping,
    History,
    ProgressBar,
    ProgressLogger,
    ReduceLROnPlateau,
)

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "ProgressLogger",
    "ReduceLROnPlateau",
]
