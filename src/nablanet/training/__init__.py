"""The training loop and its callbacks."""

from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    ProgressBar,
    ProgressLogger,
    ReduceLROnPlateau,
)
from .divergence import DivergenceGuard, DivergenceWarning

__all__ = [
    "Callback",
    "DivergenceGuard",
    "DivergenceWarning",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "ProgressLogger",
    "ReduceLROnPlateau",
]
