r"""scikit-learn's two stochastic update rules, as nablanet optimizers.

``solver="sgd"`` and ``solver="adam"`` use these, so that the estimators take scikit-learn's steps
exactly (``sklearn/neural_network/_stochastic_optimizers.py``). They differ from nablanet's own
:class:`~nablanet.optimizers.SGD` and :class:`~nablanet.optimizers.Adam` (PyTorch's forms) only
where the learning rate changes between steps (SGD) and in where Adam adds its epsilon:

============  ============================================  ==========================================
rule          scikit-learn (here)                           nablanet / PyTorch
============  ============================================  ==========================================
SGD           :math:`u \leftarrow \mu u - \eta_t g`          :math:`v \leftarrow \mu v + g`
              :math:`p \leftarrow p + u`                     :math:`p \leftarrow p - \eta_t v`
Adam          :math:`\eta_t m / (\sqrt{v} + \epsilon)`       :math:`\eta_t m / (\sqrt{v} + \epsilon\sqrt{1-\beta_2^t})`
============  ============================================  ==========================================

with :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` for Adam. For a constant learning
rate the two SGD forms take the same steps (:math:`u = -\eta v`); with ``invscaling`` or
``adaptive`` rates scikit-learn's velocity keeps the rates it was built with. Both keep
nablanet's state buffers and config names (``"sgd"``, ``"adam"``), so a model file reloads them
as nablanet's own optimizers; ``from_model`` puts these back for an estimator.

Like nablanet's own optimizers (and unlike scikit-learn), both flush state elements below the
dtype's smallest normal number to zero (:func:`~nablanet.optimizers.flush_subnormals`; every
step in the compiled kernels, every ``FLUSH_EVERY`` steps in NumPy): in float64 a dead unit's
moments reach the subnormal range later than in float32, but they do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _fast
from ..optimizers import SGD, Adam, Optimizer, RMSProp, get_optimizer, optimizer_from_config
from ..schedules import Schedule

Array = np.ndarray


class ScikitSGD(SGD):
    r"""scikit-learn's SGD with momentum :math:`\mu` (velocity :math:`u`, zero at first):

    .. math::
        u \leftarrow \mu u - \eta_t\, g,\qquad
        p \leftarrow p + u \quad\text{or, Nesterov,}\quad p \leftarrow p + \mu u - \eta_t\, g

    It keeps nablanet's velocity :math:`v = -u / \eta_t` (so model files hold an ordinary SGD
    state) and, when the rate changes from :math:`\eta_{t-1}` to :math:`\eta_t`, first rescales
    it by :math:`\eta_{t-1}/\eta_t`; then nablanet's step is exactly scikit-learn's.
    """

    def __init__(self, lr: Any = 0.001, momentum: float = 0.9, nesterov: bool = True) -> None:
        # Nesterov without momentum is plain SGD (nablanet's SGD refuses the combination)
        super().__init__(lr, momentum=momentum, nesterov=bool(nesterov) and momentum > 0)
        self._last_lr: float | None = None  # the rate of the previous step

    def step(self) -> None:
        """One update; rescale the velocity first if the learning rate changed."""
        if self.momentum and self._last_lr is not None and self._last_lr != self.lr:
            ratio = self._last_lr / self.lr
            for _, _, state, _ in self._groups:
                state["v"] *= state["v"].dtype.type(ratio)
        super().step()
        self._last_lr = self.lr


class ScikitAdam(Optimizer):
    r"""scikit-learn's Adam: with :math:`m`, :math:`v` zero at first, at step :math:`t`

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        p \leftarrow p - \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,\frac{m}{\sqrt v + \epsilon}
    """

    name = "adam"
    state_names = ("m", "v")  # the same moments as nablanet's Adam

    def __init__(
        self,
        lr: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(lr)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    @property
    def learning_rate(self) -> float:
        """scikit-learn's bias-corrected rate of the current step, :math:`\\eta_t`."""
        t = max(self.iterations, 1)
        return self.lr * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def _update(self, p: Array, g: Array, state: dict[str, Array], tmp: Array) -> None:
        f = p.dtype.type
        m, v = state["m"], state["v"]
        if _fast.enabled() and _fast.update.fits(p, g, m, v):  # the same rule in one pass
            b1, b2 = self.beta_1, self.beta_2
            scalars = (f(b1), f(1 - b1), f(b2), f(1 - b2), f(self.learning_rate), f(self.epsilon))
            _fast.update.run("adam", p, g, (m, v), *scalars)
            return
        m *= f(self.beta_1)
        m += g * f(1 - self.beta_1)  # m <- b1 m + (1 - b1) g
        np.multiply(g, g, out=tmp)
        tmp *= f(1 - self.beta_2)
        v *= f(self.beta_2)
        v += tmp  # v <- b2 v + (1 - b2) g^2
        self._flush_state(tmp, m, v)  # as nablanet's optimizers do (nablanet.optimizers)
        np.sqrt(v, out=tmp)
        tmp += f(self.epsilon)
        np.divide(m, tmp, out=tmp)  # m / (sqrt(v) + eps)
        tmp *= f(self.learning_rate)
        p -= tmp

    def _extra_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


def new_optimizer(est: Any) -> Optimizer:
    """A fresh stochastic rule for the estimator ``est`` (``solver="sgd"``/``"adam"``):
    scikit-learn's rule, or nablanet's named by the ``optimizer`` extra.

    Shared by ``nablanet.estimators`` and ``nablanet.dask``, so that both take the same steps.
    """
    lr: float | Schedule = (
        est.learning_rate
        if isinstance(est.learning_rate, Schedule)
        else float(est.learning_rate_init)
    )
    name = est.optimizer
    if name is None and est.solver == "sgd":
        return ScikitSGD(lr, float(est.momentum), bool(est.nesterovs_momentum))
    if name is None:
        return ScikitAdam(lr, est.beta_1, est.beta_2, est.epsilon)
    if isinstance(name, Optimizer):
        return optimizer_from_config(name.get_config())  # never train the user's instance
    if name == "sgd":
        mom = float(est.momentum)
        return SGD(lr, momentum=mom, nesterov=bool(est.nesterovs_momentum) and mom > 0)
    if name in ("adam", "adamw"):
        decay = 0.01 if name == "adamw" else 0.0
        return Adam(lr, est.beta_1, est.beta_2, est.epsilon, weight_decay=decay)
    if name == "rmsprop":
        return RMSProp(lr, epsilon=est.epsilon)
    return get_optimizer(name, lr=lr)
