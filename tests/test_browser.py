"""The search page in a real browser: headless Chromium (Debian's) driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO
from tests.test_http import running_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# A CI artifact (git-ignored); bench/results/search-page.png is a committed reference copy.
SCREENSHOT = REPO / "bench" / "work" / "search-page.png"


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (.ci/run installs it)")
    from search.indexer import index_paths

    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(CORPUS, root / "corpus")
    index_paths(root / "ix", [root / "corpus"])
    with running_server(root / "ix") as url:
        yield url


@pytest.fixture(scope="module")
def browser(page_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_unaccented_search_shows_marked_ba_dinh_articles(browser, page_url) -> None:
    page = browser.new_page()
    page.goto(page_url + "/")
    page.fill("input[name=q]", "quan uy ba dinh")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("section.hit")
    links = page.eval_on_selector_all("section.hit h2 a", "els => els.map(e => e.getAttribute('href'))")
    assert set(links) >= {"/a/001_f4567b4d3bda134d.txt?q=quan+uy+ba+dinh",
                          "/a/003_0abad921df26c789.txt?q=quan+uy+ba+dinh"}
    marks = page.eval_on_selector_all("mark", "els => els.map(e => e.textContent)")
    assert "Đình" in marks and "Ba" in marks
    assert page.title().startswith("quan uy ba dinh")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    # Following a result opens the article page.
    page.click("section.hit h2 a")
    page.wait_for_selector("article h2")
    assert "Ba Đình" in page.inner_text("article")
    page.close()


def test_facet_link_filters_the_results(browser, page_url) -> None:
    page = browser.new_page()
    page.goto(page_url + "/?q=dang+vien")
    assert "5 kết quả" in page.inner_text("p.meta")
    page.click("div.facets a:has-text('Gò Vấp')")
    page.wait_for_load_state()
    assert "1 kết quả" in page.inner_text("p.meta")
    page.close()


def test_autocomplete_lists_places_as_the_user_types(browser, page_url) -> None:
    page = browser.new_page()
    page.goto(page_url + "/")
    page.type("input[name=q]", "ba d", delay=30)
    page.wait_for_selector("#complete li")
    items = page.eval_on_selector_all("#complete li", "els => els.map(e => e.firstChild.textContent)")
    assert items[0] == "Ba Đình"
    page.press("input[name=q]", "ArrowDown")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("section.hit")
    assert page.input_value("input[name=q]") == "Ba Đình"
    assert "2 kết quả" in page.inner_text("p.meta")
    page.close()


def test_did_you_mean_link_runs_the_suggestion(browser, page_url) -> None:
    page = browser.new_page()
    page.goto(page_url + "/?q=quaanj+uyr")
    assert "Kết quả cho: Quận ủy" in page.inner_text("p.suggestion")
    page.click("p.suggestion a")
    page.wait_for_selector("section.hit")
    assert page.input_value("input[name=q]") == "Quận ủy"
    assert page.query_selector("p.suggestion") is None
    page.close()


def test_docs_render_offline_with_every_request_on_this_server(browser, page_url) -> None:
    page = browser.new_page()
    requests: list[str] = []
    console: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append(m.text))
    page.goto(page_url + "/docs")
    page.wait_for_selector("text=/search")  # the operation list, built from /openapi.json
    assert "Ranked hits with highlighted snippets" in page.inner_text("#swagger-ui")
    assert requests and all(u.startswith(page_url + "/") for u in requests), requests
    assert page_url + "/openapi.json" in requests
    # "Try it out" runs a search from the page (connect-src 'self' allows it).
    page.click("#operations-default-search_api_search_get .opblock-summary")
    page.click("#operations-default-search_api_search_get button.try-out__btn")
    page.fill("#operations-default-search_api_search_get input[placeholder=q]", "ba dinh")
    page.click("#operations-default-search_api_search_get button.execute")
    status = page.wait_for_selector(
        "#operations-default-search_api_search_get .live-responses-table tbody .response-col_status")
    assert status.inner_text().strip() == "200"
    assert "Ba Đình" in page.inner_text("#operations-default-search_api_search_get .live-responses-table")
    assert all(u.startswith(page_url + "/") for u in requests), requests
    assert not [m for m in console if "Content Security Policy" in m], console
    page.close()


def test_pages_run_under_the_content_security_policy(browser, page_url) -> None:
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.goto(page_url + "/?q=quan+uy")
    page.wait_for_selector("section.hit")
    # The stylesheet applies (a static file, allowed by the CSP): marks are yellow.
    colour = page.eval_on_selector("mark", "el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(255, 224, 102)"
    page.goto(page_url + "/a/001_f4567b4d3bda134d.txt")
    page.wait_for_selector("article h2")
    assert not [m for m in console if "Content Security Policy" in m], console
    page.close()
