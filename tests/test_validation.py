"""Tests for nablanet._validation's memory bound: available memory, byte and count formatting."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

import nablanet._validation as v


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (22 * 2**30 + 2**30 // 10, "22.1 GiB"),
        (32 * 10**12, "29.1 TiB"),
        (1024**9 - 1, "1024.0 YiB"),
        (10**40, "1e+40 bytes"),
        (2**5000, "2**5000 bytes"),
    ],
)
def test_format_bytes_in_binary_units_for_any_int(n: int, text: str) -> None:
    assert v.format_bytes(n) == text


def test_format_count_is_exact_for_ordinary_sizes_and_short_for_absurd_ones() -> None:
    assert v.format_count(1_000_000_000_000) == "1000000000000"
    assert v.format_count(10**30) == "1e+30"
    assert v.format_count(10**5000) == "2**16609"  # past Python's int-to-str limit
    assert v.format_sizes([3, 10**30, 2]) == "[3, 1e+30, 2]"


def test_short_quotes_ints_too_long_to_print() -> None:
    assert v.short_repr(10**5000) == "2**16609"
    assert v.short_repr((10**5000,)) == "(2**16609,)"
    assert v.short_repr([1, 10**5000]) == "[1, 2**16609]"


def test_available_memory_reads_the_machine() -> None:
    available = v.available_memory()
    assert isinstance(available, int) and available > 0
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            line = next(x for x in f if x.startswith("MemAvailable:"))
    except (OSError, StopIteration):
        return
    assert available <= int(line.split()[1]) * 1024 * 1.5  # never more than the kernel says


def test_available_memory_falls_back_when_nothing_can_be_read(monkeypatch) -> None:
    def no_file(*args: Any, **kwargs: Any) -> Any:
        raise OSError("unreadable")

    def no_sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(builtins, "open", no_file)
    monkeypatch.setattr(v.os, "sysconf", no_sysconf)
    assert v.available_memory() == v.FALLBACK_AVAILABLE_MEMORY


def test_check_memory_refuses_above_the_limit_with_both_numbers(monkeypatch) -> None:
    monkeypatch.setattr(v, "available_memory", lambda: 22 * 2**30)
    v.check_memory(22 * 2**30, "exactly the limit")  # fine
    with pytest.raises(ValueError) as info:
        v.check_memory(32 * 10**12, "the thing [3, 1e+12]", purpose=" for X", hint="do less")
    assert str(info.value) == (
        "the thing [3, 1e+12] needs about 29.1 TiB for X; this machine has 22.0 GiB "
        "available; do less"
    )
