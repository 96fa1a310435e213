"""Dates as Vietnamese news writes them, and as users type them.

News pages print the publication date in many shapes: ``28/02/2020 - 09:24``,
``Ngày đăng 18/05/2023 | 21:04``, ``Thứ hai, 12/1/2024, 09:24 (GMT+7)``,
``12 tháng 1 năm 2024``, or only ``Ngày 12/1`` in the lead, the year left to the
reader. Precompiled patterns handle the common shapes quickly; ``dateparser``
(``languages=["vi"]``) is tried only on a short candidate line that the patterns
miss, never on a whole article (it costs milliseconds per call).

A wrong date is worse than none: impossible dates and dates in the future are
rejected, and a partial date gets its year only from a full date elsewhere in the
same text.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

# d/m/yyyy (or d-m-yyyy, d.m.yyyy), optionally followed by a time: "- 09:24", "| 21:04", ", 9h30"
_FULL = re.compile(
    r"(?<![\d/])(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})(?![\d/])"
    r"(?:[\s\u00a0]*[-|,][\s\u00a0]*|[\s\u00a0]+)?(?:(\d{1,2})\s*[:h]\s*(\d{2}))?"
)
# yyyy-mm-dd, optionally with a time
_ISO = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2}))?")
# "12 tháng 1 năm 2024"
_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s*,?\s*năm\s+((?:19|20)\d{2}))?", re.I
)
# "Ngày 12/1", "Sáng 27/2", "sáng ngày 18/5" (no year)
_PARTIAL = re.compile(
    r"(?:ngày|sáng|chiều|tối|trưa|đêm|hôm)(?:\s+(?:ngày|nay|qua))?\s+(\d{1,2})/(\d{1,2})(?![/\d])",
    re.I,
)
_TIME_WORDS = re.compile(r"ngày|tháng|cập nhật|đăng|thứ|chủ nhật|gmt", re.I)


def _make(year: int, month: int, day: int, *, hour: str | None = None,
          minute: str | None = None) -> tuple[datetime, bool] | None:
    """A datetime, or None when the parts cannot be a real, past publication date."""
    try:
        if hour is not None and minute is not None:
            value = datetime(year, month, day, int(hour), int(minute))
        else:
            value = datetime(year, month, day)
    except ValueError:
        return None
    if not 1900 <= year or value > datetime.now() + timedelta(days=1):
        return None
    return value, hour is not None and minute is not None


def full_date(text: str) -> tuple[datetime, bool] | None:
    """The first complete date (with time if given) in *text*, as ``(datetime, has_time)``."""
    candidates = []
    m = _FULL.search(text)
    if m:
        made = _make(int(m[3]), int(m[2]), int(m[1]), hour=m[4], minute=m[5])
        candidates.append((m.start(), made))
    m = _ISO.search(text)
    if m:
        made = _make(int(m[1]), int(m[2]), int(m[3]), hour=m[4], minute=m[5])
        candidates.append((m.start(), made))
    m = _WORDS.search(text)
    if m and m[3]:
        candidates.append((m.start(), _make(int(m[3]), int(m[2]), int(m[1]))))
    candidates = [c for c in candidates if c[1] is not None]
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def years_in(text: str) -> list[int]:
    """Years of every complete d/m/yyyy date in *text* (for completing partial dates)."""
    years = []
    for m in _FULL.finditer(text):
        if _make(int(m[3]), int(m[2]), int(m[1])):
            years.append(int(m[3]))
    return years


def partial_date(lead: str, whole_text: str) -> datetime | None:
    """``Ngày 12/1`` in *lead*, with the year of the latest full date in *whole_text*.

    No full date anywhere → no date (a guessed year would be wrong as often as not).
    """
    m = _PARTIAL.search(lead)
    if not m:
        return None
    years = years_in(whole_text)
    if not years:
        return None
    made = _make(max(years), int(m[2]), int(m[1]))
    return made[0] if made else None


def date_line(line: str) -> tuple[datetime, bool] | None:
    """The date of a short header line (``28/02/2020 - 09:24``, ``Thứ hai, 12/1/2024``)."""
    found = full_date(line)
    if found or len(line) > 80 or not any(c.isdigit() for c in line):
        return found
    if not _TIME_WORDS.search(line):
        return None
    return _dateparser(line)


def _dateparser(text: str) -> tuple[datetime, bool] | None:
    try:
        import dateparser  # imported lazily: it takes ~0.5 s to load
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    value = dateparser.parse(
        text, languages=["vi"], settings={"PREFER_DATES_FROM": "past", "STRICT_PARSING": True}
    )
    if value is None or value > datetime.now() + timedelta(days=1) or value.year < 1900:
        return None
    value = value.replace(tzinfo=None)
    return value, (value.hour, value.minute) != (0, 0)


def parse_date(value: str) -> tuple[datetime, bool] | None:
    """Parse a date a user or a JSON record gives: ``2023``, ``2023-01``, ``2023-01-12``,
    ``12/1/2023``, ``28/02/2020 - 09:24``, ``2023-01-12T09:24:00`` …"""
    value = value.strip()
    m = _TYPED_ISO.fullmatch(value)
    if m and not m[3]:  # a year or a month: its first day
        return _make(int(m[1]), int(m[2] or 1), 1)
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=None), (parsed.hour, parsed.minute) != (0, 0)
    except ValueError:
        pass
    return date_line(value)


# The forms a user types for a day, month or year: 2023, 2023-06, 2023-06-15,
# 6/2023, 15/6/2023.
_TYPED_ISO = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_TYPED_DMY = re.compile(r"(?:(\d{1,2})/)?(\d{1,2})/(\d{4})")


def _typed_parts(value: str) -> tuple[int, int | None, int | None] | None:
    """Year, month and day of a typed date (month and day ``None`` when left out)."""
    if m := _TYPED_ISO.fullmatch(value):
        year, month, day = m[1], m[2], m[3]
    elif m := _TYPED_DMY.fullmatch(value):
        day, month, year = m[1], m[2], m[3]
    else:
        return None
    return int(year), int(month) if month else None, int(day) if day else None


def date_bounds(value: str) -> tuple[datetime, datetime]:
    """First and last instant of a date given as ``2023``, ``2023-06``, ``2023-06-15``
    or ``15/6/2023``: a year or month means the whole of it, so a filter on it keeps
    every article of that year or month.

    Raises :class:`ValueError` with a message for the user (``bad date …``).
    """
    value = value.strip()
    parts = _typed_parts(value)
    try:
        if parts is None:
            raise ValueError
        year, month, day = parts
        if month is None:
            return datetime(year, 1, 1), datetime(year, 12, 31, 23, 59, 59)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return datetime(year, month, 1), datetime(year, month, last, 23, 59, 59)
        start = datetime(year, month, day)
        return start, start + timedelta(days=1) - timedelta(seconds=1)
    except ValueError:  # calendar's IllegalMonthError is one too
        raise ValueError(
            f"bad date {value!r}: use YYYY, YYYY-MM, YYYY-MM-DD or D/M/YYYY"
        ) from None


def date_range(text: str) -> tuple[datetime | None, datetime | None]:
    """``2022-06 TO 2023-06`` → from the start of the first to the end of the second;
    either side may be left empty for an open range.

    Raises :class:`ValueError` with a message for the user (``bad date range …``,
    ``bad date …``).
    """
    parts = re.split(r"\s+TO\s+|\s+to\s+", f" {text.strip()} ")
    if len(parts) != 2:
        raise ValueError(f"bad date range [{text}]: use [2022-06 TO 2023-06]")
    low, high = parts[0].strip(), parts[1].strip()
    start = date_bounds(low)[0] if low else None
    end = date_bounds(high)[1] if high else None
    if start and end and start > end:
        raise ValueError(f"bad date range [{text}]: the start is after the end")
    return start, end
