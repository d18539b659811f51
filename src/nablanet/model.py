r"""``Sequential``: a stack of layers with a loss and an optimizer.

Data flows one way: checked input -> ``forward`` through the layers -> loss -> ``backward``
through the layers in reverse -> optimizer step. :meth:`Sequential.fit` drives that loop
(:mod:`nablanet.training.loop`) and calls the callbacks.

The engine, public so that every front end uses the same one (the training loop,
:func:`nablanet.gradcheck`, :func:`nablanet.explain` and the scikit-learn estimators):

==================================  ==========================================================
``prepare(X, y)``                   checked ``X`` and the target matrix ``Y`` (builds the model)
``forward(X, training, ...)``       the one forward pass (optionally only up to the loss's input)
``backward(grad, ...)``             the one backward pass; fills every layer's ``grads`` with
                                    the gradient of the data term (no L2)
``penalty(l2)``                     the L2 term: each Dense layer's own ``l2`` plus the caller's
``penalty_gradients(l2)``           adds the L2 term's gradient into the Dense layers' ``grads``
``compute_loss(X, Y, w, l2=)``      the training objective at the current weights (no gradients)
``loss_and_grads(X, Y, w, l2=)``    forward, loss, backward and L2 gradient of one batch
``loss_and_grad_sums(X, Y, w)``     ``(sum w, sum w * loss, sum w * grad)`` of one chunk's data
                                    term, to add up over chunks (data-parallel, full batch)
``set_gradients(vector)``           a flat gradient (e.g. averaged over chunks) into ``grads``
``apply_gradients()``               one optimizer step from the gradients
``train_step(X, Y, w)``             ``loss_and_grads`` then ``apply_gradients``
``parameters_to_vector()``          all the weights as one flat array (and back:
                                    ``vector_to_parameters``; gradients: ``gradients_to_vector``)
==================================  ==========================================================

``Sequential``'s methods live in three modules: this one (construction, ``build``, the task,
checked input, ``fit``/``predict``/``evaluate``), :mod:`nablanet._model_engine` (the engine
above but ``prepare``, and the objective it computes) and :mod:`nablanet._model_extras`
(weights, ``summary``/``info``, ``get_config``/``from_config``/``clone``, and the facades
``save``/``to_onnx``/``explain``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._inference import fast_predict
from ._model_engine import SequentialEngine
from ._model_extras import TASKS as TASKS
from ._model_extras import SequentialExtras
from ._shorthand import layers_from_sizes
from ._validation import (
    as_generator,
    check_array,
    check_consistent_length,
    check_dtype,
    check_fraction,
    check_n_features,
    check_positive_float,
    check_positive_int,
    refuse_pandas_na,
    short_repr,
)
from .functional import all_finite
from .layers import Dense, Layer, Sigmoid
from .layers.packing import pack_parameters
from .losses import Loss, apply_link, check_link, get_loss
from .metrics import METRIC_NAMES
from .optimizers import Optimizer, get_optimizer
from .targets import CATEGORICAL_LOSSES, CLASSIFICATION_LOSSES, infer_task, prepare_targets
from .training.rollback import unchanged_on_error

Array = np.ndarray


#: output layer -> the loss without a link that trains through the same fused form
_PLAIN_LOSS = {
    "Sigmoid": "binary_cross_entropy",
    "Softmax": "categorical_cross_entropy",
    "Exp": "half_poisson_deviance",
}


class Sequential(SequentialEngine, SequentialExtras):
    """A feed-forward network: layers applied in order, batch first.

    Parameters
    ----------
    layers : sequence of Layer
        E.g. ``[Dense(4), ReLU(), Dense(1), Sigmoid()]``. Any activation may follow any layer.
    loss : str or Loss
        A name from :mod:`nablanet.losses` (``"mse"``, ``"binary_cross_entropy"``, ...). When the last
        layer is Sigmoid (Softmax) and the loss is binary (categorical) cross-entropy, training uses
        the fused, numerically stable form from logits; ``predict_proba`` still applies the layer.
        A loss from logits names its link (``loss.link``: ``"sigmoid"``, ``"softmax"``,
        ``"exp"``), which ``predict_proba`` applies to the last layer's output.
    optimizer : str or Optimizer
        ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or an instance.
    lr : float, optional
        Learning rate for an optimizer given by name (its default otherwise).
    metrics : list of str, optional
        ``"accuracy"``, ``"mae"``, ``"mse"``; default ``["accuracy"]`` for classification.
    label_smoothing : float in [0, 1)
        Moves classification targets toward uniform; 0.1 turns one-hot 0/1 into 0.05/0.95.
    seed : None, int or np.random.Generator
        The one source of randomness: initial weights, shuffling, dropout, validation split.
    dtype : "float32" or "float64"
        Parameters and computation; input is converted to it.

    Examples
    --------
    >>> from nablanet import Sequential
    >>> model = Sequential.from_sizes([2, 4, 1], activation="tanh", output="sigmoid",
    ...                               loss="binary_cross_entropy", optimizer="adam", lr=0.05, seed=0)
    """

    def __init__(
        self,
        layers: Sequence[Layer] | None = None,
        *,
        loss: str | Loss = "mse",
        optimizer: str | Optimizer = "sgd",
        lr: float | None = None,
        metrics: Sequence[str] | None = None,
        label_smoothing: float = 0.0,
        seed: Any = None,
        dtype: Any = "float32",
    ) -> None:
        self.built = False  # build() sets it, with every layer's parameters
        self.layers: list[Layer] = []
        for layer in layers or []:
            self.add(layer)
        self.dtype = check_dtype(dtype)
        self.rng = as_generator(seed)
        self.compile(loss=loss, optimizer=optimizer, lr=lr, metrics=metrics)
        self.label_smoothing = check_fraction("label_smoothing", label_smoothing, low_open=False)
        self.input_dim: int | None = None
        self.task: str | None = None
        self.classes_: np.ndarray | None = None
        self.stop_training = False
        self.stop_reason: str | None = None
        self.fit_epochs = 0
        self.fit_steps = 0  # batches per epoch of the current fit (for progress callbacks)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_sizes(
        cls,
        sizes: Sequence[int],
        activation: str | Sequence[str] = "relu",
        output: str = "identity",
        *,
        kernel_initializer: str | None = None,
        bias_initializer: str = "zeros",
        l2: float = 0.0,
        l1: float = 0.0,
        dropout: float = 0.0,
        weights: Sequence[tuple[Any, Any]] | None = None,
        **kwargs: Any,
    ) -> Sequential:
        """Build from the tutorials' shorthand: layer sizes and activations.

        Parameters
        ----------
        sizes : sequence of int
            ``[n_inputs, hidden..., n_outputs]``, e.g. ``[2, 4, 3, 1]`` in the tutorial
            "Application of differentiations in neural networks".
        activation : str or sequence of str
            One name for every hidden layer (then ``output`` names the last), or one name per layer
            (``len(sizes) - 1`` of them, the last being the output's), as that tutorial's
            ``[relu, relu, sigmoid]``.
        kernel_initializer : str, optional
            Default: ``he_uniform`` before ReLU-like activations, ``glorot_uniform`` otherwise.
        l2, l1 : float
            Every Dense layer's L2 and L1 coefficients (see :class:`~nablanet.Dense`).
        dropout : float
            Dropout rate after every hidden activation (0 for none).
        weights : sequence of (W, b), optional
            Explicit initial weights, ``W`` of shape (n_in, n_out), ``b`` of shape (n_out,).
        **kwargs
            Passed to :class:`Sequential` (loss, optimizer, lr, seed, ...).
        """
        layers, n_inputs = layers_from_sizes(
            sizes,
            activation,
            output,
            kernel_initializer,
            bias_initializer,
            l2,
            dropout,
            weights,
            l1,
        )
        model = cls(layers, **kwargs)
        model.build(n_inputs)
        return model

    def add(self, layer: Layer) -> None:
        """Append ``layer`` (before the model is built)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"layers must be nablanet Layer objects, got {layer!r}")
        if self.built:
            raise RuntimeError("cannot add layers to a model that is already built")
        self.layers.append(layer)

    def compile(
        self,
        loss: str | Loss | None = None,
        optimizer: str | Optimizer | None = None,
        lr: float | None = None,
        metrics: Sequence[str] | None = None,
    ) -> None:
        """Set (or change) the loss, optimizer and metrics; ``None`` keeps the current one.

        ``lr`` without ``optimizer`` sets the current optimizer's learning rate (replacing its
        schedule, if it had one). Everything is checked before anything changes.
        """
        new_loss = None if loss is None else get_loss(loss)
        lr = None if lr is None else check_positive_float("lr", lr)
        new_optimizer = None
        if optimizer is not None:
            if isinstance(optimizer, Optimizer) and lr is not None:
                raise ValueError("pass lr to the optimizer instance, not to the model")
            new_optimizer = get_optimizer(optimizer, **({} if lr is None else {"lr": lr}))
        if isinstance(metrics, str):
            metrics = [metrics]  # metrics="accuracy" means one metric, not five letters
        if metrics is not None:
            for name in metrics:
                if name not in METRIC_NAMES:
                    raise ValueError(
                        f"unknown metric {short_repr(name)}; expected one of {list(METRIC_NAMES)}"
                    )
        if not self.built:
            self._set_compiled(new_loss, new_optimizer, lr, metrics)
            return
        with unchanged_on_error(self):  # binding the new loss or optimizer may still fail
            self._set_compiled(new_loss, new_optimizer, lr, metrics)
            self._bind()

    def _set_compiled(
        self,
        new_loss: Loss | None,
        new_optimizer: Optimizer | None,
        lr: float | None,
        metrics: Sequence[str] | None,
    ) -> None:
        """:meth:`compile`'s changes, its arguments already checked."""
        if new_loss is not None:
            old: Loss | None = getattr(self, "loss", None)
            if old is not None and new_loss.name != old.name:
                self.task = None  # a different loss: the next fit infers the task afresh
            self.loss = new_loss
        if new_optimizer is not None:
            self.optimizer = new_optimizer
        elif lr is not None:
            self.optimizer.lr, self.optimizer.schedule = lr, None
        if metrics is not None:
            self.metrics: list[str] | None = list(metrics)
        elif not hasattr(self, "metrics"):
            self.metrics = None  # the default: accuracy for classifiers, none for regression

    def build(self, input_dim: int) -> None:
        """Create every layer's parameters for inputs of ``input_dim`` features."""
        if not self.layers:
            raise ValueError("the model has no layers")
        from ._shorthand import check_network_memory

        width = check_positive_int("input_dim", input_dim)
        # one check for the whole network, before any layer allocates
        check_network_memory(
            self.layers, width, self.dtype, len(getattr(self.optimizer, "state_names", ()))
        )
        with unchanged_on_error(self):  # a layer refusing its input unbuilds those before it
            for layer in self.layers:
                width = layer.build(width, self.rng, self.dtype)
            self.input_dim = int(input_dim)
            first_dense = next((la for la in self.layers if isinstance(la, Dense)), None)
            if first_dense is not None and self.layers.index(first_dense) == 0:
                first_dense.need_input_grad = False
            self._flat = pack_parameters(self.layers, self.dtype)
            self.built = True
            self._bind()

    def _bind(self) -> None:
        """Choose the training path (fused output + loss or not) and bind the optimizer."""
        last = self.layers[-1]
        link = check_link(self.loss)
        squash = type(last).__name__
        if link != "identity" and squash in _PLAIN_LOSS:
            after = f"a second {link}" if squash.lower() == link else f"{link} after {squash}"
            warnings.warn(
                f"the loss {self.loss.name!r} takes logits (link {link!r}), but the last layer "
                f"is {squash}: its output would go through {after}. Drop the last layer, or "
                f"use {_PLAIN_LOSS[squash]} (trained through the same fused, stable form).",
                UserWarning,
                stacklevel=3,
            )
        self._dense_layers = [layer for layer in self.layers if isinstance(layer, Dense)]
        fused = self.loss.fused_with(type(last).__name__)
        if fused is not None:
            self._train_layers = self.layers[:-1]
            self._train_loss = fused
        else:
            self._train_layers = list(self.layers)
            self._train_loss = self.loss
        self.optimizer.build(self.slots(), self._flat)
        self._inference = None  # predict_proba's fast path, made on first use (_inference.py)

    def slots(self) -> list[tuple[str, Array, Array]]:
        """``(key, param, grad)`` for every parameter, keys like ``"layers.0.W"``."""
        return [
            (f"layers.{i}.{name}", p, layer.grads[name])
            for i, layer in enumerate(self.layers)
            for name, p in layer.params.items()
        ]

    @property
    def n_outputs(self) -> int:
        self._require_built()
        out = self.layers[-1].output_dim
        assert out is not None
        return out

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def _require_built(self) -> None:
        if not self.built:
            raise ValueError(
                "the model is not built yet: call fit(X, y) or build(n_features) first"
            )

    # The engine (forward, backward, penalty, loss_and_grads, train_step, ...) is inherited
    # from SequentialEngine (nablanet/_model_engine.py); weights, summary/info, config and
    # save/to_onnx/explain from SequentialExtras (nablanet/_model_extras.py).

    # -- task -----------------------------------------------------------------------------
    def resolved_task(self) -> str:
        """The task fitted on, or the one the loss and output width imply before any fit:
        ``"binary"``, ``"multiclass"``, ``"multilabel"`` or ``"regression"``."""
        if self.task is not None:
            return self.task
        if not self.is_classifier():
            return "regression"
        if self.n_outputs == 1:
            return "binary"
        return "multiclass" if self.loss.name in CATEGORICAL_LOSSES else "multilabel"

    def is_classifier(self) -> bool:
        """True when the model was fitted on (or is set up for) class targets."""
        if self.task is not None:
            return self.task != "regression"
        return self.loss.name in CATEGORICAL_LOSSES | CLASSIFICATION_LOSSES

    def normalizes_proba(self) -> bool:
        """True for a multiclass model with independent sigmoid outputs (a Sigmoid last layer,
        or a loss with the ``"sigmoid"`` link): :meth:`predict_proba` divides each row of these
        one-vs-rest scores by its sum (``apply_link(..., normalize=True)``)."""
        link = self.loss.link
        sigmoids = link == "sigmoid" or (
            link == "identity" and isinstance(self.layers[-1], Sigmoid)
        )
        return sigmoids and self.resolved_task() == "multiclass"

    # -- data in --------------------------------------------------------------------------
    def check_X(self, X: Any) -> Array:
        """``X`` as a finite 2-D array of the model's dtype (and width, once built)."""
        if (
            type(X) is np.ndarray
            and X.dtype == self.dtype
            and X.ndim == 2
            and len(X) > 0
            and X.shape[1] == self.input_dim
            and all_finite(X)
        ):
            return X  # fast path: already a finite 2-D array of the model's dtype and width
        if hasattr(X, "__dask_graph__"):  # a Dask collection: never pulled in silently
            raise TypeError(
                f"X is a Dask collection ({type(X).__name__}); Sequential would load all of it "
                "into this process. Train on the cluster with nablanet.dask "
                "(DaskMLPClassifier, DaskMLPRegressor), or call X.compute() if it fits in memory"
            )
        arr = check_array(X, "X", dtype=self.dtype)
        if self.built:
            assert self.input_dim is not None
            check_n_features(arr, self.input_dim)
        return arr

    def prepare(self, X: Any, y: Any) -> tuple[Array, Array]:
        """Checked ``X`` and the target matrix ``Y`` of shape (n_samples, n_outputs) that the
        loss compares with; builds the model on first use and fixes its task."""
        Xc = self.check_X(X)
        refuse_pandas_na(y, "y")  # before NumPy turns a pd.NA into NaN or an object
        if not self.built:
            self.build(Xc.shape[1])
        y_arr = np.asarray(y)
        if y_arr.dtype.kind in "USO":
            # prepare_targets raises the clear error; do not let infer_task compare strings first
            prepare_targets(y_arr, self.n_outputs, "regression", self.dtype)
        task = self.task or infer_task(self.loss.name, self.n_outputs, y_arr)
        Y = prepare_targets(y_arr, self.n_outputs, task, self.dtype, self.label_smoothing)
        check_consistent_length(Xc, Y)
        self.task = task
        return Xc, Y

    # -- training and inference (bodies in training.loop) ---------------------------------
    def fit(
        self, X: Any, y: Any, epochs: int = 1, batch_size: int | None = None, **kwargs: Any
    ) -> Any:
        """Train on ``X`` of shape (n_samples, n_features) and ``y``; return a ``History``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Integer class labels are one-hot encoded for multiclass models.
        epochs : int
            Passes over the data.
        batch_size : int, optional
            Mini-batch size; ``None`` means full-batch gradient descent (as in the tutorial
            "Application of differentiations in neural networks").
        shuffle : bool
            Reshuffle the samples every epoch (default True).
        seed : None, int or Generator
            Replaces the model's random generator before training (reproducible runs).
        validation_data : tuple (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        validation_split : float in [0, 1)
            Fraction of the (shuffled) data held out for validation.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights: the loss is the weighted mean over each batch (the epoch loss
            too); metrics stay unweighted.
        class_weight : dict or "balanced", optional
            Classifiers: weight of each class, ``{label: weight}`` keyed by the labels passed
            (``classes_`` if set, else 0..K-1); ``"balanced"`` uses
            ``n_samples / (n_classes * count)``. Multiplies ``sample_weight``.
        callbacks : list of Callback
        verbose : "auto", bool or {0, 1, 2}
            ``True`` or 1: a progress bar on ``sys.stderr`` (:class:`~nablanet.ProgressBar`);
            ``"auto"``: the bar only on a terminal and for long runs; 2: one line per epoch on
            the current ``sys.stdout``, as Keras's ``verbose=2``, through the
            ``"nablanet.training"`` logger (how-to "Logging and progress"); ``False`` or 0: nothing.
            Every fit logs its epochs on that logger at INFO whatever ``verbose`` says.
        progress : {"epoch", "batch"}
            ``"batch"``: the bar ticks once per batch, for long epochs, and the logger also
            gets one DEBUG record per batch (shown by ``verbose=2``).

        Every argument is checked before the first step; if a check fails the model is left
        as it was (unbuilt if it was, same generator and state, task and weights:
        :mod:`nablanet.training.rollback`). An exception from a callback, or Ctrl-C, during
        training keeps the weights trained so far.
        """
        from .training.loop import fit

        return fit(self, X, y, epochs=epochs, batch_size=batch_size, **kwargs)

    def predict_proba(self, X: Any, batch_size: int = 8192) -> Array:
        r"""Network output for ``X`` through the loss's link: probabilities for classifiers,
        values (the Poisson mean for the Poisson deviances) for regression.

        ``apply_link(loss.link, z)`` of the last layer's output ``z``: ``z`` itself for the
        ``"identity"`` link, :math:`\sigma(z)` for ``"sigmoid_binary_cross_entropy"``,
        :math:`\mathrm{softmax}(z)` for ``"softmax_cross_entropy"`` and :math:`e^z` for
        ``"exp_half_poisson_deviance"`` (table in :mod:`nablanet.losses`). A multiclass model
        with independent sigmoid outputs (:meth:`normalizes_proba`) returns each row of its
        one-vs-rest scores divided by the row's sum: rows summing to 1 whose argmax is
        :meth:`predict`, but not calibrated probabilities. A ready ``X`` (a C-contiguous array
        of the model's dtype and width) takes a fast path with the same results and the same
        finiteness check (``nablanet/_inference.py``).

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), in the model's dtype
        """
        self._require_built()
        if type(batch_size) is not int or batch_size < 1:  # a positive int needs no more checks
            batch_size = check_positive_int("batch_size", batch_size)
        out = fast_predict(self, X, batch_size)  # a ready array, a plain Dense chain: _inference
        if out is not None:
            return out
        Xc = self.check_X(X)
        if len(Xc) <= batch_size:
            out = self.forward(Xc)
        else:
            parts = [self.forward(Xc[i : i + batch_size]) for i in range(0, len(Xc), batch_size)]
            out = np.concatenate(parts)
        # the loss's link: sigmoid(z), softmax(z) or exp(z) for a loss from logits (e.g.
        # "bce_with_logits" after a linear output); the output itself otherwise
        return apply_link(self.loss.link, out, normalize=self.normalizes_proba())

    def predict(self, X: Any, batch_size: int = 8192) -> Array:
        """Class labels for classifiers (``classes_`` if set, else 0..K-1); outputs for regression.

        Returns
        -------
        ndarray of shape (n_samples,) for single-output and multiclass models,
        (n_samples, n_outputs) for multilabel and multi-output regression.
        """
        out = self.predict_proba(X, batch_size)
        task = self.resolved_task()
        if task == "regression":
            return out[:, 0] if out.shape[1] == 1 else out
        if task == "multiclass":
            idx = out.argmax(axis=1)
        else:
            idx = (out > 0.5).astype(np.int64)
            idx = idx[:, 0] if out.shape[1] == 1 else idx
        return self.classes_[idx] if self.classes_ is not None else idx

    def evaluate(
        self, X: Any, y: Any, batch_size: int = 8192, sample_weight: Any = None
    ) -> dict[str, float]:
        """Loss and metrics on ``(X, y)``, as a dict such as ``{"loss": 0.1, "accuracy": 0.97}``.

        The loss is the training objective (L2 penalty included), weighted by ``sample_weight``
        (shape (n_samples,)) if given; metrics are unweighted.
        """
        from .training.loop import evaluate

        self._require_built()
        return evaluate(self, X, y, batch_size=batch_size, sample_weight=sample_weight)

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles hold each parameter once: the flat buffers are left out."""
        state = self.__dict__.copy()
        state.pop("_flat", None)
        state.pop("_inference", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Re-link a copied model (``copy.deepcopy``, or the process transport of Dask/joblib).

        The layers' parameters are views into one packed buffer; a copy gets separate arrays, so
        the packing and the optimizer's binding are rebuilt here (optimizer state is kept).
        """
        self.built = False  # an unbuilt model pickled before __init__ set ``built`` lacks it
        self.__dict__.update(state)
        if self.built:
            self._flat = pack_parameters(self.layers, self.dtype)
            self._bind()

    def __repr__(self) -> str:
        return f"Sequential({self.layers!r}, loss={self.loss.name!r})"
