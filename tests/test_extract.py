"""Metadata extraction: every field of every seed, realistic cases beyond them, robustness."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.extract import (
    Article,
    clean_lines,
    extract,
    find_author,
    find_people,
    find_source,
    find_title,
    is_boilerplate,
    summarise,
)
from tests.conftest import CORPUS, vntc_records

SEEDS = {
    "000_79b2625c10f6956a.txt": dict(
        title="Quận Bắc Từ Liêm trao Huy hiệu Đảng cho gần 300 đảng viên đợt 3/2",
        date=datetime(2023, 1, 12), has_time=False, author="Trần Thảo", source="Kinhtedothi",
        places=["Bắc Từ Liêm", "Hà Nội"], provinces_2025=["Hà Nội"], people=["Vũ Hà"],
        summary="Ngày 12/1, Đảng bộ quận Bắc Từ Liêm kỷ niệm 93 năm",
    ),
    "001_f4567b4d3bda134d.txt": dict(
        title="Quận Ba Đình phát động đợt thi đua cao điểm chào mừng Đại hội Đảng bộ quận lần thứ 26",
        date=datetime(2020, 2, 28, 9, 24), has_time=True, author="Cẩm Tú", source="TĐKT",
        places=["Ba Đình", "Hà Nội"], provinces_2025=["Hà Nội"], people=["Tạ Nam Chiến"],
        summary="Sáng 27/2, quận Ba Đình tổ chức kỷ niệm 90 năm",
    ),
    "002_7f5c0ff51dbfc99e.txt": dict(
        title=(
            "Quận NamTừ Liêm biểu dương kết quả phong trào thi đua năm 2022; phát động phong "
            "trào thi đua chào mừng kỷ niệm 75 năm Ngày Chủ tịch Hồ Chí Minh ra Lời kêu gọi "
            "thi đua ái quốc"
        ),
        date=datetime(2023, 5, 18, 21, 4), has_time=True, author="Trần Hòa", source="NTL",
        places=["Nam Từ Liêm", "Hà Nội"], provinces_2025=["Hà Nội"],
        people=["Hồ Chí Minh", "Trần Đức Hoạt", "Lâm Quang Thao", "Trần Thanh Long"],
        summary="Sáng ngày 18/5, Quận ủy - HĐND - UBND - UB MTTQ quận",
    ),
    "003_0abad921df26c789.txt": dict(
        title="Các Tổ chức cơ sở Đảng hoàn thành xuất sắc nhiệm vụ được Quận ủy khen thưởng.",
        date=None, has_time=False, author="Trung Anh", source=None,
        places=["Ba Đình", "Hà Nội"], provinces_2025=["Hà Nội"], people=["Nguyễn Thị Tuyến"],
        summary="Đó là đề nghị củ Ủy viên Trung ương Đảng",
    ),
    "004_752ea5e39524a483.txt": dict(
        title=(
            "Bí thư Quận ủy Sử Ngọc Anh trao Giấy khen cho các chi, đảng bộ cơ sở đạt tiêu "
            "chuẩn “Hoàn thành xuất sắc nhiệm vụ” tiêu biểu năm 2022."
        ),
        date=None, has_time=False, author="An Nhiên", source=None,
        places=["Gò Vấp", "TP.HCM"], provinces_2025=["TP.HCM"], people=["Sử Ngọc Anh"],
        summary="Năm 2022 quận hoàn thành đạt và vượt 17/18 chỉ tiêu",
    ),
}
FIELDS = ["title", "date", "has_time", "author", "source", "places", "provinces_2025", "people"]


@pytest.fixture(scope="module")
def seeds() -> dict[str, Article]:
    return {name: extract((CORPUS / name).read_text(encoding="utf-8")) for name in SEEDS}


@pytest.mark.parametrize("name", SEEDS)
@pytest.mark.parametrize("field", FIELDS)
def test_seed_fields(seeds, name: str, field: str) -> None:
    assert getattr(seeds[name], field) == SEEDS[name][field]


@pytest.mark.parametrize("name", SEEDS)
def test_seed_summary_body_and_word_count(seeds, name: str) -> None:
    article = seeds[name]
    assert article.summary.startswith(SEEDS[name]["summary"])
    assert article.word_count > 400
    raw = (CORPUS / name).read_text(encoding="utf-8")
    # Every real paragraph of the file is still in the body (nothing of substance lost) …
    for line in clean_lines(raw):
        if len(line) > 80 and line != article.title:
            assert line in article.body
    # … while chrome, the title and the byline are gone from it.
    assert "Chia sẻ Zalo" not in article.body and "BẢN ĐỒ SỐ" not in article.body
    assert not article.body.startswith(article.title)
    assert not article.body.rstrip().endswith(article.author)


def test_doubled_caption_is_kept_once(seeds) -> None:
    caption = "Bí thư Quận ủy Bắc Từ Liêm Vũ Hà trao huy hiệu Đảng cho các đảng viên."
    assert seeds["000_79b2625c10f6956a.txt"].body.count(caption) == 1


@pytest.mark.parametrize(
    ("text", "date", "has_time"),
    [
        ("Tiêu đề bài\nThứ hai, 12/1/2024, 09:24 (GMT+7)\n\nNội dung " + "x " * 40, datetime(2024, 1, 12, 9, 24), True),
        ("Tiêu đề bài\nCập nhật: 05/03/2021 14:30\n\nNội dung " + "x " * 40, datetime(2021, 3, 5, 14, 30), True),
        ("Tiêu đề bài\nChủ nhật, 7/5/2023 - 10:15\n\nNội dung " + "x " * 40, datetime(2023, 5, 7, 10, 15), True),
        ("Tiêu đề bài\n\n(Dân trí) - Ngày 3/4/2019, hội nghị tổng kết diễn ra tại quận. " + "x " * 30, datetime(2019, 4, 3), False),
        ("Tiêu đề bài\n\nHà Nội - Sáng 5/6, thành phố tổ chức lễ. Kỷ niệm ngày 1/6/2022. " + "x " * 30, datetime(2022, 6, 5), False),
        # Partial date and no full date anywhere: no date rather than a guessed year.
        ("Tiêu đề bài\n\nSáng 5/6, quận tổ chức hội nghị tổng kết công tác năm 2022 với nhiều nội dung.", None, False),
        # Only a historical date deep in the lead: not the article's date.
        ("Tiêu đề bài\n\nTrong bài viết dài về lịch sử của thành phố, chúng tôi nhắc lại sự kiện ngày 19/8/1945 ở Hà Nội.", None, False),
        ("Tiêu đề bài\n31/02/2023 - 10:00\n\nNgày không tồn tại " + "x " * 40, None, False),
    ],
    ids=["weekday-gmt", "cap-nhat", "chu-nhat", "lead-full", "partial-with-year", "partial-no-year", "historical", "impossible"],
)
def test_dates_beyond_the_seeds(text, date, has_time) -> None:
    article = extract(text)
    assert article.date == date and article.has_time == has_time


@pytest.mark.parametrize(
    ("lines", "title"),
    [
        (["TIN TỨC TIN TỨC", "Tiêu đề thật", "Nội dung"], "Tiêu đề thật"),
        (["THỜI SỰ", "Tiêu đề thật", "Nội dung"], "Tiêu đề thật"),
        (["28/02/2020 - 09:24", "Tiêu đề sau ngày", "Nội dung"], "Tiêu đề sau ngày"),
        (["Chỉ một dòng"], "Chỉ một dòng"),
        ([], ""),
    ],
)
def test_find_title(lines, title) -> None:
    assert find_title(lines)[0] == title


def test_vntc_nld_title_and_body_run_together() -> None:
    text = (
        "Thành lập dự án POLICY phòng chống HIV/AIDS ở VN (NLĐ)- Quỹ hỗ trợ khẩn cấp về AIDS "
        "của Hoa Kỳ vừa thành lập dự án POLICY tại VN với cam kết hỗ trợ Chính phủ."
    )
    article = extract(text)
    assert article.title == "Thành lập dự án POLICY phòng chống HIV/AIDS ở VN"
    assert article.source == "NLĐ"
    assert article.body.startswith("(NLĐ)- Quỹ hỗ trợ")


def test_very_long_first_line_gives_a_bounded_title() -> None:
    text = "Một câu rất dài " * 60
    assert 0 < len(extract(text).title) <= 201


@pytest.mark.parametrize(
    ("lines", "author"),
    [
        (["Tiêu đề", "Trần Thảo", "Nội dung dài của bài viết ở đây."], "Trần Thảo"),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Nguyễn Văn An"], "Nguyễn Văn An"),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Theo Minh Khôi"], "Minh Khôi"),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Hoàng Lan (tổng hợp)"], "Hoàng Lan"),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Toàn cảnh Lễ kỷ niệm"], None),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "BẢN ĐỒ SỐ"], None),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Ba Đình"], None),
        (["Tiêu đề", "Nội dung dài của bài viết ở đây.", "Số 12 Lê Lợi"], None),
        # the longest byline: "Theo", a five-word name, "(tổng hợp)"
        (["Tiêu đề", "Nội dung.", "Theo Tôn Nữ Thị Hà Giang (tổng hợp)"], "Tôn Nữ Thị Hà Giang"),
        (["Tiêu đề", "Nội dung.", "Theo Tôn Nữ Thị Hà Giang Anh (tổng hợp)"], None),
    ],
)
def test_find_author(lines, author) -> None:
    assert find_author(lines, 0)[0] == author


@pytest.mark.parametrize(
    ("lead", "source"),
    [
        ("Kinhtedothi - Ngày 12/1, Đảng bộ quận", "Kinhtedothi"),
        ("TĐKT - Sáng 27/2, quận Ba Đình", "TĐKT"),
        ("(NTL) Sáng ngày 18/5, Quận ủy", "NTL"),
        ("(Dân trí) - Chiều nay, UBND", "Dân trí"),
        ("Hà Nội - Sáng nay, thành phố", None),  # a dateline place, not a source
        ("Năm 2022 quận hoàn thành", None),
        ("Đó là đề nghị của đồng chí", None),
    ],
)
def test_find_source(lead, source) -> None:
    assert find_source(lead) == source


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("Bí thư Quận ủy Bắc Từ Liêm Vũ Hà nhấn mạnh", ["Vũ Hà"]),
        ("Phó Bí thư Thường trực Thành ủy Hà Nội Nguyễn Thị Tuyến phát biểu", ["Nguyễn Thị Tuyến"]),
        ("Chủ tịch UBND quận Cầu Giấy Nguyễn Văn Thành và đồng chí Lê Minh Hải", ["Nguyễn Văn Thành", "Lê Minh Hải"]),
        ("Chủ tịch nước Võ Văn Thưởng", []),  # "nước" is not a filler: no guess
        ("đồng chí Bí thư cho biết", []),
        ("Bí thư Vũ Hà và Bí thư Vũ Hà", ["Vũ Hà"]),
        # a title is whole words, also inside a run that is not one
        ("ông xphó bí thư Trần Văn Nam", ["Trần Văn Nam"]),
        ("PHÓ BÍ THƯ Lê Văn Tám", ["Lê Văn Tám"]),
        ("Bí thư_Lê Văn Tám", ["Lê Văn Tám"]),
        ("Bí thư, Lê Văn Tám", []),
        # the reading runs past the window it starts in
        ("Bí thư " + "Quận ủy " * 60 + "Nguyễn Văn An phát biểu", ["Nguyễn Văn An"]),
        ("Bí thư " + "x " * 200 + "Nguyễn Văn An", []),
    ],
)
def test_find_people(text, people) -> None:
    assert find_people(text) == people


@pytest.mark.parametrize(
    "line",
    ["Chia sẻ Zalo", "Chia sẻ Facebook", "BẢN ĐỒ SỐ", "Lượt xem: 267", "In bài", "Bình luận (3)"],
)
def test_boilerplate_lines(line) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize("line", ["Chia sẻ kinh nghiệm quản lý đô thị", "Bản đồ số hóa phường"])
def test_real_lines_are_not_boilerplate(line) -> None:
    assert not is_boilerplate(line)


#: Every kind of separator a page dump holds: spaces, tab, NBSP, em and ideographic
#: spaces, zero-width spaces and joiners, BOM, form feed, NEL, line separator.
_SEPARATORS = " \t\u00a0\u2003\u3000\u200b\u200c\u200d\ufeff\x0b\x0c\x1c\x85\u2028"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*_SEPARATORS, *"aàB1.,Đ"]), max_size=40))
def test_a_line_s_separators_become_single_spaces(line: str) -> None:
    # what a regex substitution of every separator run does
    expected = re.sub(r"[\s\u200b\u200c\u200d\ufeff]+", " ", line).strip()
    assert clean_lines(line) == ([expected] if expected else [])


def test_nfd_and_crlf_input_extracts_the_same(seeds) -> None:
    name = "001_f4567b4d3bda134d.txt"
    raw = (CORPUS / name).read_text(encoding="utf-8")
    odd = "\ufeff" + unicodedata.normalize("NFD", raw).replace("\n", "\r\n")
    article = extract(odd)
    for field in FIELDS:
        assert getattr(article, field) == SEEDS[name][field]


def test_given_fields_win() -> None:
    text = "Tiêu đề trong văn bản\n\nKinhtedothi - Nội dung bài viết dài ở Ba Đình. " + "x " * 30
    article = extract(text, {"title": "Tiêu đề JSON", "date": "2021-07-01", "author": "A B",
                             "source": "VnExpress"})
    assert (article.title, article.date, article.author, article.source) == (
        "Tiêu đề JSON", datetime(2021, 7, 1), "A B", "VnExpress")
    assert extract(text, {"date": "not a date"}).date is None


def test_summary_is_capped_at_a_word_boundary() -> None:
    para = "Từ " * 300
    summary = summarise([para])
    assert len(summary) <= 401 and summary.endswith("…") and not summary.endswith(" …")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_extract_never_raises(text: str) -> None:
    article = extract(text)
    assert isinstance(article, Article) and article.word_count >= 0
    assert len(article.title) <= 201


def test_vntc_records_extract_sanely() -> None:
    records = [json.loads(line) for line in vntc_records(500)]
    for record in records:
        article = extract(record["text"], {"source": record.get("source")})
        assert 0 < len(article.title) <= 201, record["id"]
        assert article.body.strip()
        assert article.date is None or article.date.year >= 1990
