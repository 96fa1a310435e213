"""Date parsing: header forms, partial dates, user input, rejection of impossible dates."""

from __future__ import annotations

from datetime import datetime

import pytest

from search.dates import (
    date_bounds,
    date_line,
    date_range,
    full_date,
    parse_date,
    partial_date,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("28/02/2020 - 09:24", (datetime(2020, 2, 28, 9, 24), True)),
        ("Ngày đăng 18/05/2023 | 21:04 \u00a0|\u00a0Lượt xem: 267", (datetime(2023, 5, 18, 21, 4), True)),
        ("Thứ hai, 12/1/2024, 09:24 (GMT+7)", (datetime(2024, 1, 12, 9, 24), True)),
        ("Cập nhật lúc 9h30 ngày 05/03/2021", (datetime(2021, 3, 5), False)),
        ("05/03/2021 9h30", (datetime(2021, 3, 5, 9, 30), True)),
        ("2023-01-12 08:00", (datetime(2023, 1, 12, 8, 0), True)),
        ("Ngày 12 tháng 1 năm 2024", (datetime(2024, 1, 12), False)),
        ("31/02/2023", None),
        ("12/13/2023", None),
        ("Lượt xem: 267", None),
    ],
)
def test_date_lines(line, expected) -> None:
    assert date_line(line) == expected


def test_future_dates_are_rejected() -> None:
    assert full_date("01/01/2999") is None


@pytest.mark.parametrize(
    ("lead", "text", "expected"),
    [
        ("Ngày 12/1, Đảng bộ quận", "… (3/21930 - 3/2/2023) …", datetime(2023, 1, 12)),
        ("Sáng 27/2, quận Ba Đình", "17/3/1930 và 17/3/2020", datetime(2020, 2, 27)),
        ("Sáng ngày 18/5, Quận ủy", "Không có năm nào đầy đủ", None),
        ("Không có ngày ở đầu", "12/1/2024", None),
    ],
)
def test_partial_dates_take_the_year_from_the_text(lead, text, expected) -> None:
    assert partial_date(lead, text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023", datetime(2023, 1, 1)),
        ("2023-06", datetime(2023, 6, 1)),
        ("2023-06-15", datetime(2023, 6, 15)),
        ("15/6/2023", datetime(2023, 6, 15)),
        ("2023-06-15T08:30:00", datetime(2023, 6, 15, 8, 30)),
    ],
)
def test_parse_user_and_json_dates(value, expected) -> None:
    assert parse_date(value)[0] == expected


@pytest.mark.parametrize("value", ["", "hôm qua nữa", "2023-13", "abc"])
def test_unparsable_dates_give_none(value) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023", (datetime(2023, 1, 1), datetime(2023, 12, 31, 23, 59, 59))),
        ("2024-02", (datetime(2024, 2, 1), datetime(2024, 2, 29, 23, 59, 59))),
        ("6/2023", (datetime(2023, 6, 1), datetime(2023, 6, 30, 23, 59, 59))),
        ("2023-06-15", (datetime(2023, 6, 15), datetime(2023, 6, 15, 23, 59, 59))),
        (" 15/6/2023 ", (datetime(2023, 6, 15), datetime(2023, 6, 15, 23, 59, 59))),
    ],
)
def test_date_bounds_cover_the_whole_year_month_or_day(value, expected) -> None:
    assert date_bounds(value) == expected


@pytest.mark.parametrize("value", ["2023-13", "31/2/2023", "23", "2023-06-15T08:00", "soon"])
def test_bad_date_bounds_say_which_forms_work(value) -> None:
    with pytest.raises(ValueError, match="bad date .*: use YYYY, YYYY-MM, YYYY-MM-DD or D/M/YYYY"):
        date_bounds(value)


def test_date_range_is_open_at_either_end_and_ordered() -> None:
    assert date_range("2022-06 TO 2023") == (datetime(2022, 6, 1), datetime(2023, 12, 31, 23, 59, 59))
    assert date_range("TO 2021") == (None, datetime(2021, 12, 31, 23, 59, 59))
    with pytest.raises(ValueError, match="the start is after the end"):
        date_range("2024 TO 2023")
    with pytest.raises(ValueError, match=r"bad date range \[2023\]"):
        date_range("2023")
