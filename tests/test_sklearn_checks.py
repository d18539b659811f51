"""Tests for nablanet.estimators with scikit-learn's own estimator checks (pandas installed)."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("pandas")  # several checks feed DataFrames and Series when it is there

from sklearn.utils.estimator_checks import parametrize_with_checks

from nablanet.estimators import MLPClassifier, MLPRegressor, Perceptron

PERCEPTRON_WEIGHTS = (
    "The perceptron updates its weights after every sample, so a sample seen k times in a "
    "row is k updates, each from the weights the previous one left (and no update at all once "
    "it is classified correctly), not one update scaled by k; the shuffled order differs too. "
    "Weights scale each update exactly (see test_perceptron_sample_weight_scales_the_step), "
    "but cannot equal repetition. scikit-learn marks the same check as an expected failure "
    "for its own Perceptron (sklearn/utils/_test_common/instance_generator.py)."
)


def expected_failures(estimator: object) -> dict[str, str]:
    if isinstance(estimator, Perceptron):
        return {
            "check_sample_weight_equivalence_on_dense_data": PERCEPTRON_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": PERCEPTRON_WEIGHTS,
        }
    return {}


# max_iter=100 is the setting scikit-learn's own test suite runs its MLPs with.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100), Perceptron()],
    expected_failed_checks=expected_failures,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check, monkeypatch):
    # check_array_api_input skips itself unless this variable is set; with it, it runs (on
    # NumPy input) like every other check.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)
