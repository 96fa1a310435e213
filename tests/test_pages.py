"""The page templates and what fills them (search.pages), over HTTP on the seed articles
and through the module's public helpers; the browser tests are test_page_browser.py."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx2
import pytest

from search.highlight import Snippet
from search.pages import PageQuery, page_numbers, paragraphs, unfiltered_links
from search.query import Filters
from tests.conftest import CORPUS
from tests.test_http import running_server

BA_DINH = "001_f4567b4d3bda134d.txt"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx2.Client]:
    from search.indexer import index_paths

    root = tmp_path_factory.mktemp("pages")
    shutil.copytree(CORPUS, root / "corpus")
    index_paths(root / "ix", [root / "corpus"])
    with running_server(root / "ix") as url, httpx2.Client(base_url=url, timeout=30) as c:
        yield c


def test_page_numbers_show_the_ends_and_a_window_around_the_current_page() -> None:
    assert page_numbers(1, 1) == []
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_numbers(2, 20) == [1, 2, 3, 4, None, 20]
    assert page_numbers(20, 20) == [1, None, 18, 19, 20]


def test_links_leave_defaults_out_and_go_back_to_page_one() -> None:
    asked = PageQuery(q="ba dinh", page=3, place="Hà Nội", sort="date")
    assert asked.link(page=4) == "/?q=ba+dinh&page=4&place=H%C3%A0+N%E1%BB%99i&sort=date"
    assert asked.link(place=None) == "/?q=ba+dinh&sort=date"  # a new filter: page 1
    assert PageQuery(q="x").link(sort="relevance") == "/?q=x"


def test_a_date_range_takes_over_from_the_year_facet() -> None:
    by_year = PageQuery(q="x", year="2023")
    assert by_year.filters() == Filters(since="2023", until="2023")
    ranged = PageQuery(q="x", year="2023", since="2020-01-01")
    assert ranged.filters() == Filters(since="2020-01-01", until=None)
    assert "year" not in ranged.link()
    assert [label for label, _ in unfiltered_links(ranged)] == ["bỏ lọc ngày"]
    both = PageQuery(q="x", place="Huế", year="2023")
    assert [label for label, _ in unfiltered_links(both)] == [
        "bỏ lọc nơi «Huế»", "bỏ lọc năm 2023", "bỏ mọi bộ lọc"]


def test_paragraphs_keep_their_own_marks() -> None:
    text = Snippet("Hà Nội mưa.\n\nỞ Hà Nội\n\n\n\nhết", [(0, 2), (15, 17), (18, 21)])
    parts = paragraphs(text)
    assert [p.text for p in parts] == ["Hà Nội mưa.", "Ở Hà Nội", "hết"]
    assert [p.html() for p in parts][:2] == ["<mark>Hà</mark> Nội mưa.",
                                            "Ở <mark>Hà</mark> <mark>Nội</mark>"]


def test_article_page_marks_the_words_of_the_query_it_was_opened_from(client) -> None:
    marked = client.get(f"/a/{BA_DINH}", params={"q": "quan uy ba dinh"})
    assert marked.status_code == 200
    article = marked.text.split("<article>")[1]
    assert "<mark>Ba</mark> <mark>Đình</mark>" in article
    assert "chỗ khớp với «quan uy ba dinh»" in article
    assert 'href="/?q=quan+uy+ba+dinh"' in marked.text  # back to the same results
    plain = client.get(f"/a/{BA_DINH}").text
    assert "<mark>" not in plain and 'href="/"' in plain
    # A query that cannot run marks nothing; a hostile one is shown as text.
    for q in ("(", "date:[2024 TO 2023]", "<script>alert(1)</script>"):
        r = client.get(f"/a/{BA_DINH}", params={"q": q})
        assert r.status_code == 200 and "<script>alert" not in r.text
    assert client.get(f"/a/{BA_DINH}", params={"q": "x" * 1001}).status_code == 422


def test_results_page_shows_total_pages_controls_and_notices(client) -> None:
    r = client.get("/", params={"q": "quan", "sort": "date", "since": "2020-01-01"})
    assert '<option value="date" selected>' in r.text
    assert 'name="since" id="since" value="2020-01-01"' in r.text
    assert re.search(r">\d+ kết quả", r.text)
    past = client.get("/", params={"q": "dang", "page": 5}).text
    assert "Trang 5 không có kết quả: chỉ có 1 trang." in past and "Trang 5/" not in past
    bad = client.get("/", params={"q": "dang", "since": "sometime"}).text
    assert 'class="err"' in bad and "bad date" in bad


def test_no_results_page_offers_a_way_out(client) -> None:
    r = client.get("/", params={"q": "quan uy ba dinh", "year": "2019"}).text
    assert ">0 kết quả" in r and 'class="empty"' in r
    assert 'href="/?q=Qu%E1%BA%ADn+%E1%BB%A7y+Ba+%C4%90%C3%ACnh">Quận ủy Ba Đình</a> (không lọc)' in r
    assert 'href="/?q=quan+uy+ba+dinh">bỏ lọc năm 2019</a>' in r
    assert "notice suggestion" not in r  # offered once, in the no-results box


def test_pages_are_served_from_package_templates_and_static_files(client) -> None:
    js = client.get("/static/page.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "replaceState" in js.text
    home = client.get("/").text
    assert '<script src="/static/page.js" defer></script>' in home
    assert '<form class="q" action="/" method="get" role="search">' in home  # works without JS


def test_the_article_page_marks_what_the_result_marked(client) -> None:
    """Same reading on both pages: "ba dinh" marks "Ba Đình" in the hit and the article."""
    def marked(text: str) -> set[str]:
        return set(re.findall(r"<mark>([^<]+)</mark>", text))

    results = client.get("/", params={"q": "ba dinh"}).text
    hit = next(s for s in results.split('<section class="hit">')[1:] if BA_DINH in s)
    article = client.get(f"/a/{BA_DINH}", params={"q": "ba dinh"}).text
    assert {"Ba", "Đình"} <= marked(hit) <= marked(article) <= {"Ba", "Đình", "đình"}


def test_the_service_gives_the_marking_or_none(tmp_path) -> None:
    from search import service
    from search.engine import LocalEngine
    from search.indexer import index_paths

    index_paths(tmp_path / "ix", [CORPUS])
    engine = LocalEngine.open(tmp_path / "ix")
    marking = service.article_marking(engine, "quan uy ba dinh")
    assert marking is not None and marking.readings[0] == ("quận", "ủy", "ba", "đình")
    assert service.article_marking(engine, "place:hanoi date:2023") == marking._replace(
        exact=set(), folded=set(), phrases=(), readings=())
    for nothing in ("", "   ", "(", "x" * 1001):
        assert service.article_marking(engine, nothing) is None


@pytest.mark.parametrize(("q", "says"), [("quan uy xyzzyq ba dinh", "thiếu một từ"),
                                         ("xyzzyq dang", "có một số từ")])
def test_a_fallback_says_how_far_the_words_were_relaxed(client, q, says) -> None:
    r = client.get("/", params={"q": q}).text
    assert f"Không bài nào có đủ mọi từ; đây là các bài {says}." in r and 'class="hit"' in r


def test_a_year_facet_link_replaces_a_date_range(client) -> None:
    r = client.get("/", params={"q": "quan", "since": "2020-01-01", "until": "2023-12-31"}).text
    years = re.findall(r'<a href="([^"]+)">(\d{4}) \(\d+\)</a>', r)
    assert years and all(href == f"/?q=quan&amp;year={year}" for href, year in years)
