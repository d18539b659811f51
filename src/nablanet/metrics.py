"""Metrics: plain functions of targets and predictions, plus the per-batch forms the training loop
uses (which take the training loss's input, probabilities or logits, and its link).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._validation import check_choice
from .losses import apply_link

Array = np.ndarray


def accuracy_score(y_true: Any, y_pred: Any) -> float:
    """Fraction of positions where ``y_true == y_pred`` (labels of any type, same shape)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred have different shapes: {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("accuracy of empty arrays is undefined")
    return float(np.mean(t == p))


def r2_score(y_true: Any, y_pred: Any) -> float:
    r"""The coefficient of determination, averaged over the outputs as scikit-learn's
    ``r2_score`` does by default:

    .. math:: R^2 = 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets.
    y_pred : array-like of the same shape
        The predictions.

    Returns
    -------
    float
        For an output whose targets are all equal (denominator 0): 1.0 if it is predicted
        exactly, else 0.0, as scikit-learn's default ``force_finite=True``.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.size != p.size or len(t) != len(p):  # (n,) and (n, 1) are the same single output
        raise ValueError(f"y_true and y_pred have different shapes: {t.shape} and {p.shape}")
    if t.size == 0:
        raise ValueError("r2 of empty arrays is undefined")
    t2 = t.reshape(len(t), -1)  # (n_samples, n_outputs)
    ss_res = ((t2 - p.reshape(t2.shape)) ** 2).sum(axis=0)  # (n_outputs,)
    ss_tot = ((t2 - t2.mean(axis=0)) ** 2).sum(axis=0)
    # scikit-learn's force_finite: a constant output scores 1.0 if predicted exactly, else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - ss_res / ss_tot
    score = np.where(ss_tot == 0, np.where(ss_res == 0, 1.0, 0.0), score)
    return float(np.mean(score))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with true label ``labels[i]`` predicted as ``labels[j]``.

    Returns
    -------
    ndarray of shape (n_labels, n_labels), int64
    """
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred have different lengths: {t.size} and {p.size}")
    labels = np.unique(np.concatenate([t, p])) if labels is None else np.asarray(labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    out = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        if a in index and b in index:
            out[index[a], index[b]] += 1
    return out


# -- batch metrics: (raw network output, prepared targets, link) -> sum over the batch ---------
# They return sums so that the loop can add batches and divide once by the number of samples.
# ``out`` is what the training loss takes (the logits of a fused output), ``link`` that loss's
# link (:data:`nablanet.losses.LINKS`): each metric scores ``apply_link(link, out)``, the
# prediction ``predict_proba`` returns. For one-vs-rest scores (a multiclass model with sigmoid
# outputs) ``predict_proba`` divides that by the row sum; the accuracy (an argmax) is the same
# either way, and mae/mse compare the scores themselves with the one-hot targets, as the loss.


def _correct_multiclass(out: Array, y: Array, link: str) -> float:
    # softmax and the other links keep each row's order: the argmax of the logits is the class
    return float(np.count_nonzero(out.argmax(axis=1) == y.argmax(axis=1)))


def _correct_binary(out: Array, y: Array, link: str) -> float:
    hits = (apply_link(link, out) > 0.5) == (y > 0.5)  # predict's rule: probability > 0.5
    return float(np.count_nonzero(hits)) / out.shape[1]


def _abs_error(out: Array, y: Array, link: str) -> float:
    return float(np.abs(apply_link(link, out) - y).sum()) / out.shape[1]


def _sq_error(out: Array, y: Array, link: str) -> float:
    d = apply_link(link, out) - y
    return float(np.vdot(d, d)) / out.shape[1]


BatchMetric = Callable[[Array, Array, str], float]
METRIC_NAMES = ("accuracy", "mae", "mse")


def batch_metric(name: str, task: str) -> BatchMetric:
    """The per-batch summing form of metric ``name`` for a model solving ``task``."""
    check_choice("metric", name, METRIC_NAMES)
    if name == "accuracy":
        if task == "regression":
            raise ValueError(
                "metric 'accuracy' needs a classification task, got a regression model"
            )
        return _correct_multiclass if task == "multiclass" else _correct_binary
    return _abs_error if name == "mae" else _sq_error
