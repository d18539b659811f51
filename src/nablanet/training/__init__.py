"""The training loop and its callbacks."""

from .callbacks import Callback, EarlyStopping, History, ProgressBar, ReduceLROnPlateau
from .loop import DivergenceWarning

__all__ = [
    "Callback",
    "DivergenceWarning",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "ReduceLROnPlateau",
]
