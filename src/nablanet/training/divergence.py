"""The divergence policy of :meth:`nablanet.Sequential.fit` (the training loop).

When a batch's training loss is NaN or infinite:

1. training stops at once (the step is not taken further);
2. the weights go back to the last ones known to give a finite loss: those of the start of
   the epoch, or of the epoch before when the very first batch of an epoch failed (its loss
   was measured on that epoch's starting weights);
3. optimizer state holding NaN or infinity is zeroed;
4. the reason, with the learning rate to lower, is in ``model.stop_reason``.

Then :meth:`~nablanet.Sequential.fit` warns with :class:`DivergenceWarning` and returns (the
History's ``stop_reason`` says why).

The scikit-learn estimators do not use this policy: as drop-ins they follow scikit-learn's. In
``MLPClassifier`` and ``MLPRegressor`` a non-finite loss does not stop training, and the fit
raises ``ValueError`` only when the final weights are not finite (see
:mod:`nablanet.estimators._base`); ``Perceptron`` raises scikit-learn's ``ValueError`` at the
epoch its weights stop being finite.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Sequential


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite.

    Parameters
    ----------
    message : str
        The whole reason, as in ``model.stop_reason``.
    epoch : int or None
        The epoch whose batch failed, counted from 1 (as in the message).
    step : int or None
        The failed batch within that epoch, counted from 1.
    loss : float or None
        The training loss of that batch (NaN or infinite).

    The fields let a caller phrase its own message (``nablanet train`` does) without parsing
    this one.
    """

    def __init__(
        self,
        message: str,
        *,
        epoch: int | None = None,
        step: int | None = None,
        loss: float | None = None,
    ) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.loss = loss


class DivergenceGuard:
    """Keeps the weights of the last two epoch starts (one flat copy each) to fall back on.

    Call :meth:`begin_epoch` at the start of every epoch and :meth:`check` with every batch
    loss; ``check`` returns False, after restoring, when the loss is not finite, and
    :attr:`warning` then holds the :class:`DivergenceWarning` to issue.
    """

    def __init__(self, model: Sequential) -> None:
        self.model = model
        self.diverged = False
        self.warning: DivergenceWarning | None = None
        self.snapshot = model.parameters_to_vector()
        self.previous = self.snapshot.copy()

    def begin_epoch(self) -> None:
        """Remember the weights this epoch starts from (and keep the last epoch's)."""
        self.snapshot, self.previous = self.previous, self.snapshot
        self.model.parameters_to_vector(out=self.snapshot)

    def check(self, loss: float, epoch: int, step: int) -> bool:
        """True when ``loss`` is finite; otherwise apply the policy and return False.

        ``epoch`` and ``step`` count from 0 within this run of training.
        """
        if math.isfinite(loss):
            return True
        model = self.model
        self.diverged = True
        # Batch 1's loss was measured on this epoch's starting weights: if it is the one that
        # failed, those weights are bad too, and the previous epoch's are restored.
        bad_start = step == 0 and epoch > 0
        model.vector_to_parameters(self.previous if bad_start else self.snapshot)
        model.optimizer.reset_nonfinite_state()
        kept = epoch if bad_start else epoch + 1
        model.stop_training = True
        model.stop_reason = (
            f"training diverged: the training loss became {loss} at iteration {epoch + 1} "
            f"(epoch {epoch + 1}, batch {step + 1}). Training stopped; the model keeps the "
            f"weights from the start of epoch {kept}. Try a smaller learning rate (it was "
            f"{model.optimizer.lr:g}), or scale the inputs (e.g. with StandardScaler)."
        )
        self.warning = DivergenceWarning(
            model.stop_reason, epoch=epoch + 1, step=step + 1, loss=loss
        )
        return False
