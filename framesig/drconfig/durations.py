"""Duration strings: ``15m``, ``1h30m``, ``90s`` and ISO-8601 ``PT15M``, ``P1D``.

Durations are stored as integer seconds everywhere in :mod:`framesig.drconfig`. Input accepts
the compact Terraform/RamenDR style (lower-case units ``w d h m s``, largest first, each at most
once) and the ISO-8601 duration subset with fixed-length units (``PnW``, ``PnD``, ``PTnHnMnS``).
Years and months are rejected because they have no fixed length.

Examples
--------
>>> parse_duration("1h30m")
5400
>>> parse_duration("PT15M")
900
>>> format_duration(5400)
'1h30m'
"""

from __future__ import annotations

import re

__all__ = ["DurationError", "parse_duration", "format_duration", "format_minutes"]

_COMPACT = re.compile(
    r"^(?:(?P<w>\d+)w)?\s*(?:(?P<d>\d+)d)?\s*(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*"
    r"(?:(?P<s>\d+)s)?$",
    re.ASCII,  # \d: 0-9 only, not every script's digits ("５m")
)
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$",
    re.ASCII,
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class DurationError(ValueError):
    """A duration string that cannot be parsed.

    Examples
    --------
    >>> try:
    ...     parse_duration("soon")
    ... except DurationError as exc:
    ...     print(exc)
    invalid duration 'soon': use e.g. '15m', '1h30m', '90s', 'PT15M' or 'P1D'
    """


MAX_SECONDS = 100 * 366 * 86400  # a century: longer is a typo, and past any calendar use


def _total(match: re.Match[str]) -> int:
    total = sum(int(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v is not None)
    if total > MAX_SECONDS:
        raise DurationError(f"invalid duration {match.string!r}: longer than a century")
    return total


def parse_duration(text: str) -> int:
    """Parse a duration string into integer seconds.

    Parameters
    ----------
    text : str
        ``"15m"``, ``"1h30m"``, ``"90s"``, ``"2d"``, ``"1w"`` or ISO-8601 ``"PT15M"``,
        ``"PT1H30M"``, ``"P1D"``, ``"P90D"``. Surrounding whitespace is ignored.

    Returns
    -------
    int
        The duration in seconds (``>= 0``).

    Raises
    ------
    DurationError
        For anything else: empty strings, bare numbers (ambiguous units), negative or
        fractional values, upper-case compact units, ISO years/months, non-strings.

    Examples
    --------
    >>> [parse_duration(s) for s in ("90s", "15m", "1h", "PT1H30M", "P1D", "0m")]
    [90, 900, 3600, 5400, 86400, 0]
    >>> parse_duration("15")
    Traceback (most recent call last):
    ...
    framesig.drconfig.durations.DurationError: invalid duration '15': a bare number has no unit; \
write '15m' or '15s'
    """
    if not isinstance(text, str) or isinstance(text, bool):
        raise DurationError(
            f"invalid duration {text!r}: expected a string such as '15m' or 'PT15M'"
        )
    s = text.strip()
    if s.isascii() and s.isdigit():
        raise DurationError(
            f"invalid duration {text!r}: a bare number has no unit; write '{s}m' or '{s}s'"
        )
    if s.startswith("P"):
        date_part = s[1:].split("T", 1)[0]
        if "Y" in date_part or "M" in date_part:
            raise DurationError(
                f"invalid duration {text!r}: ISO years and months have no fixed length; "
                "use days or weeks (e.g. 'P90D')"
            )
        m = _ISO.match(s)
        if m is None or s in ("P", "PT") or s.endswith("T"):
            raise DurationError(
                f"invalid duration {text!r}: not an ISO-8601 duration of the form "
                "'PnWnDTnHnMnS' (integer values)"
            )
        return _total(m)
    m = _COMPACT.match(s)
    if s and m is not None and any(v is not None for v in m.groupdict().values()):
        return _total(m)
    raise DurationError(
        f"invalid duration {text!r}: use e.g. '15m', '1h30m', '90s', 'PT15M' or 'P1D'"
    )


def format_duration(seconds: int) -> str:
    """Format integer seconds in the compact style that :func:`parse_duration` reads back.

    Parameters
    ----------
    seconds : int
        A non-negative number of seconds.

    Returns
    -------
    str
        E.g. ``"1h30m"``; ``"0s"`` for zero. Weeks are not used (``"14d"``, not ``"2w"``).

    Examples
    --------
    >>> format_duration(0), format_duration(90), format_duration(86400 + 60)
    ('0s', '1m30s', '1d1m')
    >>> parse_duration(format_duration(12345)) == 12345
    True
    """
    if seconds < 0:
        raise ValueError(f"negative duration {seconds}")
    if seconds == 0:
        return "0s"
    parts = []
    rest = int(seconds)
    for unit in ("d", "h", "m", "s"):
        n, rest = divmod(rest, _UNIT_SECONDS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts)


def format_minutes(seconds: int) -> str:
    """Format seconds as ``H:MM`` (or ``H:MM:SS`` when not whole minutes), for T+ offsets.

    Examples
    --------
    >>> format_minutes(0), format_minutes(3900), format_minutes(95)
    ('0:00', '1:05', '0:01:35')
    """
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}" if s == 0 else f"{h}:{m:02d}:{s:02d}"
