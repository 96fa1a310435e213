"""What users of a search page expect, in a real browser (Playwright + Debian Chromium):
results as they type, a sort control, a date range, total pages with page links, the
article page marking the query's words, a no-results page that offers a way out, and
the plain form working without JavaScript.

The index holds the seed articles, a few hundred baomoi-2017 articles (real text, for
paging and marking) and a handful of dated articles written here (the real archives
carry no dates), so sorting and date ranges have something to order and narrow.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from search.indexer import index_paths
from search.normalize import fold
from tests.conftest import CORPUS, write_baomoi_sample
from tests.test_browser import ARGS, CHROMIUM
from tests.test_http import running_server

pytestmark = pytest.mark.slow

#: Dated articles on one subject, one a year (their order by date is known).
DATED_YEARS = (2018, 2024, 2020, 2022, 2019, 2021, 2023)
#: A phrase common enough in the baomoi sample to give several pages of results.
MANY = "Hà Nội"


def dated_articles() -> list[dict[str, str]]:
    return [
        {"id": f"thuy-dien-{year}", "date": f"{year}-06-{10 + n:02d}T08:00:00",
         "title": f"Thủy điện Nậm Pàn xả lũ đợt {n + 1} năm {year}",
         "text": f"Nhà máy thủy điện Nậm Pàn xả lũ năm {year}. Người dân vùng hạ du được "
                 "báo trước để di dời tài sản."}
        for n, year in enumerate(DATED_YEARS)
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    root = tmp_path_factory.mktemp("page-browser")
    shutil.copytree(CORPUS, root / "archive")
    write_baomoi_sample(root / "archive" / "baomoi", {MANY: 40}, background=200)
    lines = [json.dumps(a, ensure_ascii=False) for a in dated_articles()]
    (root / "archive" / "dated.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    index_paths(root / "ix", [root / "archive"])
    with running_server(root / "ix") as url:
        yield url


@pytest.fixture(scope="module")
def browser(site: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def shown_years(page) -> list[int]:
    metas = page.eval_on_selector_all("section.hit div.meta", "els => els.map(e => e.textContent)")
    return [int(m.group(1)) for m in (re.search(r"\d\d/\d\d/(\d{4})", t) for t in metas) if m]


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_results_appear_as_the_user_types_without_submitting(page, site) -> None:
    page.goto(site + "/")
    page.evaluate("window.sameDocument = true")  # gone if the page navigated
    page.type("input[name=q]", "nam pan", delay=40)
    page.wait_for_selector("section.hit")
    page.wait_for_selector("p.meta:text-matches('^7 kết quả')")  # the seven Nậm Pàn articles
    assert page.evaluate("window.sameDocument") is True
    assert query_of(page.url)["q"] == ["nam pan"]  # the address bar follows
    assert page.title().startswith("nam pan")
    assert page.input_value("input[name=q]") == "nam pan"  # typing is not disturbed


def test_escape_closes_the_suggestions_and_keeps_the_words_and_results(page, site) -> None:
    page.goto(site + "/")
    page.type("input[name=q]", "ha n", delay=40)
    page.wait_for_selector("#complete li")
    page.wait_for_selector("section.hit")
    page.press("input[name=q]", "Escape")
    page.wait_for_selector("#complete", state="hidden")
    page.wait_for_timeout(400)  # longer than the type-ahead pause: nothing is cleared
    assert page.input_value("input[name=q]") == "ha n"
    assert page.query_selector("section.hit") is not None


def test_sort_control_orders_hits_by_the_dates_shown(page, site) -> None:
    page.goto(site + "/?q=nam+pan")
    assert sorted(shown_years(page)) == sorted(DATED_YEARS)
    page.select_option("select[name=sort]", "date")
    page.wait_for_url(re.compile(r"sort=date"))
    page.wait_for_selector("section.hit:first-of-type div.meta:has-text('2024')")
    assert shown_years(page) == sorted(DATED_YEARS, reverse=True)
    page.select_option("select[name=sort]", "relevance")
    page.wait_for_url(re.compile(r"^[^?]*\?q=nam\+pan$"))


def test_date_range_narrows_the_results(page, site) -> None:
    page.goto(site + "/?q=nam+pan")
    assert "7 kết quả" in page.inner_text("p.meta")
    page.fill("input[name=since]", "2020-01-01")
    page.wait_for_selector("p.meta:text-matches('^5 kết quả')")
    page.fill("input[name=until]", "2022-12-31")
    page.wait_for_selector("p.meta:text-matches('^3 kết quả')")
    assert sorted(shown_years(page)) == [2020, 2021, 2022]
    assert query_of(page.url)["since"] == ["2020-01-01"]
    assert query_of(page.url)["until"] == ["2022-12-31"]
    # The year facet still works, and a reload keeps the range in the inputs.
    page.reload()
    assert page.input_value("input[name=since]") == "2020-01-01"
    page.goto(site + "/?q=nam+pan")
    page.click("div.facets a:has-text('2019')")
    page.wait_for_load_state()
    assert shown_years(page) == [2019]


def test_total_pages_and_page_links(page, site) -> None:
    page.goto(site + "/?q=ha+noi")
    meta = page.inner_text("p.meta")
    total, pages = re.search(r"(\d+) kết quả.*Trang 1/(\d+)", meta).groups()
    assert int(pages) == -(-int(total) // 10) >= 3
    assert page.query_selector("nav.pages [aria-current=page]").inner_text() == "1"
    page.click("nav.pages a:text-is('2')")
    page.wait_for_selector("text=Trang 2/")
    assert page.query_selector("nav.pages [aria-current=page]").inner_text() == "2"
    assert page.query_selector("nav.pages a:has-text('← Trước')") is not None
    page.click(f"nav.pages a:text-is('{pages}')")
    page.wait_for_selector(f"text=Trang {pages}/{pages}")
    assert page.query_selector("nav.pages a:has-text('Sau →')") is None
    assert 1 <= len(page.query_selector_all("section.hit")) <= 10


def test_article_page_marks_the_query_words(page, site) -> None:
    page.goto(site + "/?q=ha+noi")
    first = page.query_selector("section.hit h2 a")
    assert first.get_attribute("href").endswith("?q=ha+noi")
    first.click()
    page.wait_for_selector("article h2")
    marks = page.eval_on_selector_all("article mark", "els => els.map(e => e.textContent)")
    assert marks and {fold(m).lower() for m in marks} <= {"ha", "noi"}
    assert "Hà Nội" in " ".join(marks) or {"Hà", "Nội"} <= set(marks)
    assert "chỗ khớp với «ha noi»" in page.inner_text("p.marks")
    page.click("p.back a")  # back to the results of the same query
    page.wait_for_selector("section.hit")
    assert page.input_value("input[name=q]") == "ha noi"


def test_no_results_page_offers_the_suggestion_and_dropping_filters(page, site) -> None:
    page.goto(site + "/?q=quan+uy+ba+dinh&year=2019")
    assert "0 kết quả" in page.inner_text("p.meta")
    offer = page.inner_text("div.empty")
    assert "Không tìm thấy bài nào cho «quan uy ba dinh»" in offer
    assert "Có phải bạn muốn tìm: Quận ủy Ba Đình" in offer
    page.click("div.empty a:has-text('bỏ lọc năm 2019')")
    page.wait_for_selector("section.hit")
    assert query_of(page.url) == {"q": ["quan uy ba dinh"]}
    page.goto(site + "/?q=quan+uy+ba+dinh&year=2019")
    # The suggestion is offered without the filters, with which it finds nothing either.
    assert "Quận ủy Ba Đình (không lọc)" in offer
    page.click("div.empty li.suggestion a")
    page.wait_for_selector("section.hit")
    assert page.input_value("input[name=q]") == "Quận ủy Ba Đình"
    assert query_of(page.url) == {"q": ["Quận ủy Ba Đình"]}


def test_the_form_works_without_javascript(browser, site) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/")
    page.fill("input[name=q]", "nam pan")
    page.select_option("select[name=sort]", "date")
    page.click("button[type=submit]")
    page.wait_for_selector("section.hit")
    assert query_of(page.url)["sort"] == ["date"]
    assert shown_years(page) == sorted(DATED_YEARS, reverse=True)
    context.close()

