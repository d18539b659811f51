"""NABLANET_FAST: the usual on/off spellings are understood, anything else is refused by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nablanet
from nablanet._fast import switch_from_environment

SRC = str(Path(nablanet.__file__).resolve().parents[1])  # the nablanet under test


@pytest.mark.parametrize("value", ["0", "off", "OFF", "false", "False", "no", " No "])
def test_off_spellings_switch_the_kernels_off(value):
    assert switch_from_environment(value) is False


@pytest.mark.parametrize("value", [None, "", "1", "on", "true", "TRUE", "yes", " yes "])
def test_on_spellings_and_unset_keep_the_default(value):
    assert switch_from_environment(value) is None  # None: the kernels when numba is installed


@pytest.mark.parametrize("value", ["maybe", "2", "disable", "0.0", "nope"])
def test_other_values_are_refused_by_name(value):
    with pytest.raises(ValueError, match=f"NABLANET_FAST must be one of .* got {value!r}"):
        switch_from_environment(value)


def _enabled_in_a_fresh_process(value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NABLANET_FAST": value, "PYTHONPATH": SRC}
    code = "from nablanet import _fast; print(_fast.enabled())"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("value", ["off", "false", "no"])
def test_environment_off_spellings_reach_the_switch(value):
    """The bug: only "0" switched the kernels off; "off", "false", "no" were silently ignored."""
    run = _enabled_in_a_fresh_process(value)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_environment_typo_fails_at_import_naming_the_value():
    run = _enabled_in_a_fresh_process("of")
    assert run.returncode != 0
    assert "NABLANET_FAST must be one of" in run.stderr and "got 'of'" in run.stderr
