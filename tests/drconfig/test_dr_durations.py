"""Duration parsing: compact (15m, 1h30m) and ISO-8601 (PT15M, P1D)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framesig.drconfig.durations import (
    DurationError,
    format_duration,
    format_minutes,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 900),
        ("1h", 3600),
        ("1h30m", 5400),
        ("90s", 90),
        ("2d", 172800),
        ("1w", 604800),
        ("1d2h3m4s", 93784),
        ("1h 30m", 5400),
        (" 15m ", 900),
        ("0m", 0),
        ("PT15M", 900),
        ("PT1H30M", 5400),
        ("P1D", 86400),
        ("P90D", 7776000),
        ("P1W", 604800),
        ("P1DT12H", 129600),
        ("PT90S", 90),
    ],
)
def test_parse_valid(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "15",
        "soon",
        "15 minutes",
        "-5m",
        "1.5h",
        "15M",
        "m",
        "h1",
        "1m1h",
        "P",
        "PT",
        "P1DT",
        "PT1.5S",
        "pt15m",
        "PT15",
        "15m30",
        "1y",
    ],
)
def test_parse_rejects_garbage(text: str) -> None:
    with pytest.raises(DurationError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1Y", "P2M", "P1Y2M3D"])
def test_iso_years_months_rejected_with_reason(text: str) -> None:
    with pytest.raises(DurationError, match="years and months"):
        parse_duration(text)


@pytest.mark.parametrize("value", [15, 1.5, None, True, ["15m"]])
def test_parse_rejects_non_strings(value: object) -> None:
    with pytest.raises(DurationError, match="expected a string"):
        parse_duration(value)  # type: ignore[arg-type]


def test_bare_number_message_suggests_units() -> None:
    with pytest.raises(DurationError, match="write '15m' or '15s'"):
        parse_duration("15")


def test_duration_error_is_value_error() -> None:
    assert issubclass(DurationError, ValueError)


def test_format_examples() -> None:
    assert format_duration(0) == "0s"
    assert format_duration(5400) == "1h30m"
    assert format_duration(86400 * 90) == "90d"
    assert format_minutes(3900) == "1:05"
    with pytest.raises(ValueError):
        format_duration(-1)


@settings(derandomize=True, max_examples=200)
@given(st.integers(min_value=0, max_value=10**8))
def test_format_parse_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@settings(derandomize=True, max_examples=200)
@given(st.integers(0, 400), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_compact_and_iso_agree(d: int, h: int, m: int, s: int) -> None:
    expected = d * 86400 + h * 3600 + m * 60 + s
    compact = f"{d}d{h}h{m}m{s}s"
    iso = f"P{d}DT{h}H{m}M{s}S"
    assert parse_duration(compact) == expected
    assert parse_duration(iso) == expected


@pytest.mark.parametrize("text", ["\uff15m", "P\uff11D", "\u0661h"])  # full-width, Arabic-Indic
def test_digits_of_other_scripts_are_refused(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P99999999999999999D", "P3000000D", "36601000h"])
def test_a_duration_longer_than_a_century_is_refused(text: str) -> None:
    with pytest.raises(DurationError, match="longer than a century"):
        parse_duration(text)


def test_a_rehearsal_due_after_the_calendar_ends_is_due_on_its_last_day() -> None:
    import datetime

    from framesig.drconfig.model import Testing

    assert Testing(90 * 86400, datetime.date(9999, 12, 1)).next_due() == datetime.date.max
