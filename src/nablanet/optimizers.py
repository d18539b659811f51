r"""Optimizers: update parameters in place from their gradients.

An optimizer is bound to a model's parameters once by ``build(slots)``, where each slot is
``(key, param, grad)`` with a unique key such as ``"layers.0.W"``; it preallocates its state per key
and from then on ``step()`` updates every ``param`` in place from its ``grad`` (the arrays the
layers own). Each class's docstring gives the exact rule, written as PyTorch writes it, so that the
two libraries agree step for step.

The learning rate is a float or a :class:`nablanet.schedules.Schedule`; the training loop calls
``begin_epoch()`` at the start of every epoch, and the count of epochs carries on across ``fit``
calls (and model files), so a schedule continues where it stopped.

``weight_decay`` is *decoupled* weight decay (Loshchilov & Hutter's SGDW/AdamW): weight matrices
(not biases) shrink by ``p <- p (1 - lr * weight_decay)`` before the update, outside the
gradient and the momentum. PyTorch's ``SGD``/``RMSProp`` ``weight_decay`` instead adds
``weight_decay * p`` to the gradient; for that (classic L2) use ``Dense(l2=...)``.

With the ``nablanet[fast]`` extra (numba), each update runs as one compiled pass over the
parameters (:mod:`nablanet._fast.update`) instead of the NumPy passes written below, which stay
the reference: the two agree to float tolerance (``tests/test_fast.py``).

**Subnormal state is flushed to zero.** Every element of a state buffer (momentum's ``v``,
Adam's ``m`` and ``v``, RMSProp's ``v``) whose magnitude is below the smallest normal number of
its dtype (``np.finfo(dtype).tiny``: about 1.2e-38 in float32, 2.2e-308 in float64) is set to 0
by the update (:func:`flush_subnormals`; NaN and infinity are kept). Otherwise a unit that no
longer gets any gradient (a dead ReLU) leaves its moments decaying into the subnormal range and
stuck there (:math:`4 \cdot 2^{-149}` is a fixed point of :math:`m \leftarrow 0.9 m` in
float32), and arithmetic on subnormals is slow: issue 20 reports Adam's step growing about 10x
by epoch 30 of a Fashion-MNIST run on an Intel Xeon (AVX-512); on an AMD EPYC (AVX2) a compiled
step over such a state takes 1.6-2.3x as long (below). The flush changes a step by less than
``lr * tiny / epsilon`` per element, far below float tolerance.

- The compiled kernels select 0 per element in the update's own pass, at every step. On an
  AMD EPYC (two runs of ``python benchmarks/denormals.py --rounds 9``, load 11-15), a float32
  Adam step over 235,146 parameters took 113-120 us with the select, against 93-114 us for the
  old kernel on a clean state, 178-215 us on a subnormal one, and 96-107 us with FTZ/DAZ set.
- The NumPy path flushes every :data:`FLUSH_EVERY` steps: the select costs three passes per
  buffer (837 against 482 us for a NumPy Adam step when done at every step), and a decaying
  moment takes about 140 steps to fall from ``tiny`` to its stuck value, so it is caught on
  the way.
- Why not the processor's flush-to-zero / denormals-are-zero bits (MXCSR) during ``fit``:
  NumPy cannot set them (it takes torch or a compiled helper); they are per thread, so user
  callbacks would run with them set and any thread started during ``fit`` would keep them
  for good (OpenBLAS's and numba's workers do take the caller's bits on each call:
  ``python benchmarks/denormals.py --threads``); and in the runs above they saved only 6-24 us
  a step over the select. Done in the update, the flush holds in every thread and leaves the
  caller's bits alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from . import _fast
from ._validation import check_choice, check_fraction, check_positive_float
from .schedules import Schedule, schedule_from_config

Array = np.ndarray
Slot = tuple[str, Array, Array]


#: The NumPy updates flush subnormal state every this many steps (the kernels at every step).
FLUSH_EVERY = 16


def flush_subnormals(x: Array, scratch: Array) -> None:
    """Set every element of ``x`` with ``|x| < np.finfo(x.dtype).tiny`` to 0, in place.

    Zeros and subnormals become 0; normal numbers, infinity and NaN are kept. ``scratch`` is
    float space of ``x``'s shape (overwritten). The compiled kernels do the same per element.
    """
    np.abs(x, out=scratch)
    np.copyto(x, 0, where=scratch < np.finfo(x.dtype).tiny)


class Optimizer:
    """Base class: learning rate handling, state bookkeeping, config."""

    name: ClassVar[str] = ""
    #: names of the per-parameter state buffers, e.g. ("m", "v") for Adam
    state_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, lr: float | Schedule = 0.01, weight_decay: float = 0.0) -> None:
        if isinstance(lr, Schedule):
            self.schedule: Schedule | None = lr
            self.lr = lr(0)
        else:
            self.schedule = None
            self.lr = check_positive_float("lr", lr)
        self.weight_decay = check_positive_float("weight_decay", weight_decay, allow_zero=True)
        self.iterations = 0
        self.epochs = 0
        self.slots: list[Slot] = []
        self.state: dict[str, dict[str, Array]] = {}
        # Updates run over these (param, grad, state, scratch) groups: one per slot, or one
        # for all of them when the model keeps its parameters in one flat buffer.
        self._groups: list[tuple[Array, Array, dict[str, Array], Array]] = []

    def build(self, slots: list[Slot], flat: tuple[Array, Array] | None = None) -> None:
        """Bind to ``slots``; allocate zeroed state for keys not seen before (kept otherwise).

        ``flat`` is ``(flat_params, flat_grads)`` when the slots' arrays are, in order and without
        gaps, consecutive pieces of these two 1-D buffers (as :class:`nablanet.Sequential` keeps
        them): the update then runs once over the whole buffer instead of once per parameter,
        and each key's state is the matching piece of one flat state buffer.
        """
        self.slots = list(slots)
        old_state, self.state = self.state, {}
        if flat is not None:  # worth >= 3% of an Adam epoch: see nablanet.layers.packing
            flat_p, flat_g = flat
            if sum(p.size for _, p, _ in self.slots) != flat_p.size:
                raise ValueError("the flat buffers do not hold exactly the slots' parameters")
            flat_state = {name: np.zeros_like(flat_p) for name in self.state_names}
            self._groups = [(flat_p, flat_g, flat_state, np.empty_like(flat_p))]
        else:
            self._groups = []
        offset = 0
        for key, param, grad in self.slots:
            if flat is not None:  # this parameter's piece of the flat state
                piece = slice(offset, offset + param.size)
                bufs = {n: f[piece].reshape(param.shape) for n, f in flat_state.items()}
                offset += param.size
            else:
                bufs = {name: np.zeros_like(param) for name in self.state_names}
                self._groups.append((param, grad, bufs, np.empty_like(param)))
            for name, buf in bufs.items():
                previous = old_state.get(key, {}).get(name)
                if previous is not None and previous.shape == buf.shape:
                    np.copyto(buf, previous, casting="same_kind")
            self.state[key] = bufs

    def begin_epoch(self) -> None:
        """Take the learning rate of the next epoch from the schedule; count the epoch."""
        self.set_epoch(self.epochs)
        self.epochs += 1

    def set_epoch(self, epoch: int) -> None:
        """Take the learning rate for ``epoch`` from the schedule, if there is one."""
        if self.schedule is not None:
            self.lr = self.schedule(epoch)

    def step(self) -> None:
        """Apply one update to every bound parameter."""
        self.iterations += 1
        if self.weight_decay:
            for key, param, _ in self.slots:
                if key.endswith(".W"):
                    # Decoupled weight decay (AdamW, Loshchilov & Hutter): p <- p (1 - lr * wd).
                    param *= param.dtype.type(1.0 - self.lr * self.weight_decay)
        for param, grad, state, tmp in self._groups:
            self._update(param, grad, state, tmp)

    def _update(self, p: Array, g: Array, state: dict[str, Array], tmp: Array) -> None:
        """The rule of the class docstring, in place on ``p`` and ``state``; ``tmp`` is scratch
        space of ``p``'s shape."""
        raise NotImplementedError

    def _flush_state(self, tmp: Array, *buffers: Array) -> None:
        """The NumPy updates' flush of subnormal state: every :data:`FLUSH_EVERY` steps."""
        if self.iterations % FLUSH_EVERY == 0:
            for buf in buffers:
                flush_subnormals(buf, tmp)

    def reset_nonfinite_state(self) -> None:
        """Zero every state buffer holding NaN or infinity (after a divergence)."""
        for bufs in self.state.values():
            for buf in bufs.values():
                if not np.isfinite(buf).all():
                    buf.fill(0)

    # -- persistence ----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "lr": self.lr}
        if self.schedule is not None:
            config["lr"] = self.schedule.get_config()
        if self.weight_decay:
            config["weight_decay"] = self.weight_decay
        config.update(self._extra_config())
        return config

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles keep settings and state, not the binding to a model's arrays
        (the model binds the copy again) nor scratch space."""
        state = self.__dict__.copy()
        state["slots"], state["_groups"] = [], []
        return state

    def _extra_config(self) -> dict[str, Any]:
        return {}

    def get_state(self) -> dict[str, Array]:
        """A copy of every state buffer as ``{"<key>.<buffer>": array}`` plus the step counter."""
        out = {
            f"{key}.{name}": arr.copy()  # a snapshot: the live buffers change at every step
            for key, bufs in self.state.items()
            for name, arr in bufs.items()
        }
        out["iterations"] = np.asarray(self.iterations, dtype=np.int64)
        out["epochs"] = np.asarray(self.epochs, dtype=np.int64)
        return out

    def set_state(self, arrays: dict[str, Array]) -> None:
        """Restore buffers saved by :meth:`get_state` (before or after ``build``)."""
        self.iterations = int(arrays.get("iterations", 0))
        self.epochs = int(arrays.get("epochs", 0))
        for flat, arr in arrays.items():
            if flat in ("iterations", "epochs"):
                continue
            key, _, name = flat.rpartition(".")
            current = self.state.setdefault(key, {}).get(name)
            if current is not None and current.shape == np.shape(arr):
                np.copyto(current, arr, casting="same_kind")  # keep views into packed state
            else:
                self.state[key][name] = np.array(arr)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's form
    (``weight_decay`` is decoupled, see the module docstring).

    With gradient :math:`g`, velocity :math:`v` (zero at first), momentum :math:`\mu`:

    .. math::
        v \leftarrow \mu v + g, \qquad
        p \leftarrow p - \eta\, v \quad\text{or, Nesterov,}\quad p \leftarrow p - \eta\,(g + \mu v)

    With :math:`\mu = 0` this is the ``W -= eta * dW`` of the tutorial
    "Application of differentiations in neural networks": descent subtracts the gradient.
    Velocity elements below ``np.finfo(dtype).tiny`` in magnitude are set to 0 (subnormals: see
    the module docstring).
    """

    name = "sgd"
    state_names = ("v",)

    def __init__(
        self,
        lr: float | Schedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.momentum = check_fraction("momentum", momentum, low_open=False)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)

    def _update(self, p: Array, g: Array, state: dict[str, Array], tmp: Array) -> None:
        lr = p.dtype.type(self.lr)
        if _fast.enabled() and _fast.update.fits(p, g, *state.values()):
            if not self.momentum:
                _fast.update.run("sgd", p, g, (), lr)
            else:
                mu = p.dtype.type(self.momentum)
                _fast.update.run("momentum", p, g, (state["v"],), lr, mu, self.nesterov)
            return
        if not self.momentum:
            np.multiply(g, lr, out=tmp)
            p -= tmp
            return
        v = state["v"]
        v *= p.dtype.type(self.momentum)
        v += g
        self._flush_state(tmp, v)
        if self.nesterov:
            np.multiply(v, p.dtype.type(self.momentum), out=tmp)
            tmp += g
            tmp *= lr
        else:
            np.multiply(v, lr, out=tmp)
        p -= tmp

    def _extra_config(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), PyTorch's form; with ``weight_decay`` > 0 it is AdamW (decoupled).

    With gradient :math:`g` at step :math:`t` (1, 2, ...), and :math:`m`, :math:`v` zero at first:

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        p \leftarrow p - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}

    The state buffers are ``"m"`` and ``"v"``, exactly these moments. The update is computed as
    :math:`p \leftarrow p - \eta_t\, m / (\sqrt v + \hat\epsilon)` with
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` and
    :math:`\hat\epsilon = \epsilon\sqrt{1-\beta_2^t}`, the same value in one pass fewer
    (Kingma & Ba, section 2).
    AdamW first applies :math:`p \leftarrow p(1 - \eta\lambda)` to weight matrices (not biases).
    Elements of :math:`m` and :math:`v` below ``np.finfo(dtype).tiny`` in magnitude are set to 0
    (subnormals, which a dead ReLU unit's moments decay into: see the module docstring).
    """

    name = "adam"
    state_names = ("m", "v")

    def __init__(
        self,
        lr: float | Schedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.beta_1 = check_fraction("beta_1", beta_1, low_open=False)
        self.beta_2 = check_fraction("beta_2", beta_2, low_open=False)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def _update(self, p: Array, g: Array, state: dict[str, Array], tmp: Array) -> None:
        f = p.dtype.type
        t = self.iterations  # already counts this step
        m, v = state["m"], state["v"]
        root = np.sqrt(1.0 - self.beta_2**t)
        if _fast.enabled() and _fast.update.fits(p, g, m, v):
            b1, b2, lr_t = self.beta_1, self.beta_2, self.lr * root / (1.0 - self.beta_1**t)
            scalars = (f(b1), f(1.0 - b1), f(b2), f(1.0 - b2), f(lr_t), f(self.epsilon * root))
            _fast.update.run("adam", p, g, (m, v), *scalars)
            return
        np.multiply(g, f(1.0 - self.beta_1), out=tmp)  # m <- beta_1 m + (1 - beta_1) g
        m *= f(self.beta_1)
        m += tmp
        np.multiply(g, g, out=tmp)  # v <- beta_2 v + (1 - beta_2) g^2
        tmp *= f(1.0 - self.beta_2)
        v *= f(self.beta_2)
        v += tmp
        self._flush_state(tmp, m, v)  # see the module docstring
        # p <- p - lr * m_hat / (sqrt(v_hat) + eps), m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
        # in Kingma & Ba's own efficient order: lr_t m / (sqrt(v) + eps_t), the corrections folded
        # into lr_t = lr sqrt(1 - b2^t) / (1 - b1^t) and eps_t = eps sqrt(1 - b2^t)
        denominator = np.sqrt(v, out=tmp)
        denominator += f(self.epsilon * root)
        step = np.divide(m, denominator, out=tmp)
        step *= f(self.lr * root / (1.0 - self.beta_1**t))
        p -= step

    def _extra_config(self) -> dict[str, Any]:
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class RMSProp(Optimizer):
    r"""RMSProp (Hinton), PyTorch's form:

    .. math:: v \leftarrow \rho v + (1-\rho) g^2,\qquad p \leftarrow p - \eta\, g / (\sqrt v + \epsilon)

    Elements of :math:`v` below ``np.finfo(dtype).tiny`` are set to 0 (see the module docstring).
    """

    name = "rmsprop"
    state_names = ("v",)

    def __init__(
        self,
        lr: float | Schedule = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(lr, weight_decay)
        self.rho = check_fraction("rho", rho, low_open=False)
        self.epsilon = check_positive_float("epsilon", epsilon)

    def _update(self, p: Array, g: Array, state: dict[str, Array], tmp: Array) -> None:
        f = p.dtype.type
        v = state["v"]
        if _fast.enabled() and _fast.update.fits(p, g, v):
            scalars = (f(self.rho), f(1.0 - self.rho), f(self.lr), f(self.epsilon))
            _fast.update.run("rmsprop", p, g, (v,), *scalars)
            return
        v *= f(self.rho)
        np.multiply(g, g, out=tmp)
        tmp *= f(1.0 - self.rho)
        v += tmp
        self._flush_state(tmp, v)
        np.sqrt(v, out=tmp)
        tmp += f(self.epsilon)
        np.divide(g, tmp, out=tmp)
        tmp *= f(self.lr)
        p -= tmp

    def _extra_config(self) -> dict[str, Any]:
        return {"rho": self.rho, "epsilon": self.epsilon}


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": Adam,
    "rmsprop": RMSProp,
}


def get_optimizer(name: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an optimizer for ``name`` built with ``kwargs``; instances pass through.

    ``"adamw"`` is Adam with ``weight_decay=0.01`` unless given.
    """
    if isinstance(name, Optimizer):
        return name
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "adamw":
        kwargs.setdefault("weight_decay", 0.01)
    return OPTIMIZERS[name](**kwargs)


def optimizer_from_config(config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.get_config`."""
    config = dict(config)
    name = config.pop("name", None)
    if isinstance(config.get("lr"), dict):
        config["lr"] = schedule_from_config(config["lr"])
    return get_optimizer(str(name), **config)
