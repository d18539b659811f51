"""check_positive_float's shortcut for plain floats (taken three times a training step) must
accept and refuse exactly what the general check does."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nablanet._validation import check_positive_float

VALUES = [0.0, -0.0, 1e-300, 0.5, 1e308, -1.0, -1e-300, math.nan, math.inf, -math.inf]


def _general(value, allow_zero):
    """The same value as a NumPy float: the general path (not ``type(value) is float``)."""
    return check_positive_float("l2", np.float64(value), allow_zero=allow_zero)


@pytest.mark.parametrize("allow_zero", [True, False])
@pytest.mark.parametrize("value", VALUES)
def test_plain_floats_are_accepted_and_refused_as_numpy_floats_are(value, allow_zero):
    try:
        want = _general(value, allow_zero)
    except ValueError as error:
        with pytest.raises(ValueError) as got:
            check_positive_float("l2", value, allow_zero=allow_zero)
        assert str(got.value) == str(error)
        assert repr(value) in str(got.value)  # the message quotes the value received
    else:
        got = check_positive_float("l2", value, allow_zero=allow_zero)
        assert type(got) is float and got == want
        assert math.copysign(1.0, got) == math.copysign(1.0, want)


def test_bools_are_still_refused():
    with pytest.raises(TypeError, match="got True"):
        check_positive_float("l2", True, allow_zero=True)
