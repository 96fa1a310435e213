"""Every HTTP endpoint with every option over samples of the real archives.

A real ``vnsearch serve`` application on a free loopback port (as in
``test_http.py``) serves :func:`tests.conftest.real_archive`; the JSON API must
answer exactly what ``vnsearch search --json`` prints, and the page and article
pages must render every kind of article (UTF-16, NFD, space-laden ids, no place, no
date, no author) without an error.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx2
import pytest

from search.normalize import fold
from tests.conftest import RealArchive
from tests.real_checks import (
    MARKER,
    OPTIONS,
    QUERIES,
    check_search,
    query_text,
    source_article,
    title_words,
)
from tests.test_http import running_server

pytestmark = pytest.mark.slow

#: Keys of a search answer that may differ between two runs of the same search.
VOLATILE = ("took_ms",)


@pytest.fixture(scope="module")
def client(real_archive: RealArchive) -> Iterator[httpx2.Client]:
    with running_server(real_archive.index) as url, httpx2.Client(base_url=url, timeout=60) as c:
        yield c


def api_search(client: httpx2.Client, **params: object) -> dict:
    r = client.get("/search", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def stable(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in VOLATILE}


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("kind", QUERIES)
def test_search_every_query_with_every_option(client, real_archive, kind, option) -> None:
    chosen = OPTIONS[option]
    query = query_text(real_archive, kind) + chosen.suffix
    r = client.get("/search", params={"q": query, **chosen.http_params()})
    if not query.strip() and not chosen.params.keys() - {"facets", "sort", "page", "limit",
                                                         "exact"}:
        assert r.status_code == 400 and r.json()["error"]["param"] == "q"
        return
    assert r.status_code == 200, r.text
    check_search(real_archive, r.json(), query, chosen)


@pytest.mark.parametrize("option", ["plain", "facets", "sort-date", "page-2", "all-together"])
@pytest.mark.parametrize("kind", ["accented", "unaccented", "phrase", "excluded", "madeup", "nfd"])
def test_search_answers_what_the_cli_prints(client, cli, real_archive, kind, option) -> None:
    chosen = OPTIONS[option]
    query = query_text(real_archive, kind)
    printed = cli("search", query, *chosen.cli_args(), "--json", "--index", real_archive.index)
    served = api_search(client, q=query, **chosen.http_params())
    assert stable(served) == stable(json.loads(printed.stdout))


@pytest.mark.parametrize("group", ["seeds", "baomoi", "utf16", "vntc", "madeup"])
def test_articles_endpoint_and_article_page_for_each_kind_of_article(
    client, real_archive, group
) -> None:
    ids = real_archive.groups[group][:2] + [
        i for i in real_archive.nfd if i in real_archive.groups[group]][:1]
    for doc_id in ids:
        r = client.get(f"/articles/{quote(doc_id)}")
        assert r.status_code == 200, (doc_id, r.text)
        data = r.json()
        assert data["id"] == doc_id and data["title"] and data["body"]
        assert {"date", "author", "source", "places", "people"} <= set(data)
        page = client.get(f"/a/{quote(doc_id)}")
        assert page.status_code == 200 and "charset=utf-8" in page.headers["content-type"]
        assert f"<h2>{html.escape(data['title'])}</h2>" in page.text
    missing = client.get(f"/articles/{quote(ids[0])}-nope")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "id"
    assert client.get(f"/a/{quote(ids[0])}-nope").status_code == 404


def test_an_article_id_prefix_finds_the_article(client, real_archive) -> None:
    doc_id = real_archive.groups["baomoi"][0]
    assert client.get(f"/articles/{doc_id.removesuffix('.txt')}").json()["id"] == doc_id


def test_articles_without_places_dates_or_authors_render(client, real_archive) -> None:
    data = client.get("/articles/madeup/5").json()
    assert (data["places"], data["date"], data["author"], data["source"]) == ([], None, None, None)
    page = client.get("/a/madeup/5")
    assert page.status_code == 200 and 'class="meta"></div>' in page.text
    listing = client.get("/", params={"q": MARKER})
    assert listing.status_code == 200 and listing.text.count('class="hit"') == 4
    assert "/a/madeup/5" in listing.text and 'class="facets"' in listing.text  # years only


#: The search page's parameters, each with the API parameters that give the same search.
PAGES = {
    "words": ({"q": "unaccented"}, {}),
    "accented": ({"q": "accented"}, {}),
    "page-2": ({"q": "unaccented", "page": 2}, {"page": 2}),
    "last-page-and-beyond": ({"q": "unaccented", "page": 100}, {"page": 100}),
    "place": ({"q": "unaccented", "place": "Hà Nội"}, {"place": "Hà Nội"}),
    "year": ({"q": "madeup", "year": "2024"}, {"since": "2024", "until": "2024"}),
    "sort-date": ({"q": "madeup", "sort": "date"}, {"sort": "date"}),
    "place-only": ({"q": "filters-only", "place": "Đà Nẵng"}, {"place": "Đà Nẵng"}),
    "nothing": ({"q": "nothing"}, {}),
    "phrase": ({"q": "phrase"}, {}),
    "excluded": ({"q": "excluded", "sort": "date"}, {"sort": "date"}),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_search_page_lists_what_the_api_finds(client, real_archive, name) -> None:
    page_params, api_params = PAGES[name]
    query = query_text(real_archive, str(page_params["q"]))
    r = client.get("/", params={**page_params, "q": query})
    assert r.status_code == 200 and "charset=utf-8" in r.headers["content-type"]
    assert "Traceback" not in r.text and 'class="err"' not in r.text
    data = api_search(client, q=query, facets="true", **api_params)
    assert re.search(rf">{data['total']} kết quả", r.text), data["total"]
    links = re.findall(r'<h2><a href="/a/([^"?]+)(?:\?q=[^"]+)?">', r.text)
    assert links == [quote(h["id"]) for h in data["hits"]]
    if data["facets"]["place"]:
        assert "<b>Nơi:</b>" in r.text
    if links:  # the article page of a listed hit opens
        assert client.get(f"/a/{links[0]}").status_code == 200
    assert ("Sau →" in r.text) == (data["page"] * data["limit"] < data["total"])
    assert ("← Trước" in r.text) == (data["page"] > 1)


def test_search_page_marks_the_query_words(client, real_archive) -> None:
    words = title_words(real_archive, source_article(real_archive))[:2]
    r = client.get("/", params={"q": fold(" ".join(words))})
    marked = {fold(m).lower() for m in re.findall(r"<mark>([^<]+)</mark>", r.text)}
    assert marked and marked <= {fold(w) for w in words}


def test_suggest_endpoint_over_the_archive(client, real_archive) -> None:
    found = client.get("/suggest", params={"q": "ha n"}).json()["suggestions"]
    assert any(s["text"] == "Hà Nội" and s["kind"] == "place" for s in found)
    words = title_words(real_archive, source_article(real_archive))
    prefix = fold(" ".join(words[:2])) + " " + fold(words[2])[:2]
    found = client.get("/suggest", params={"q": prefix, "limit": 20}).json()["suggestions"]
    titles = [s for s in found if s["kind"] == "title"]
    assert source_article(real_archive) in {s["id"] for s in titles}
    for s in titles:
        assert client.get(f"/articles/{quote(s['id'])}").status_code == 200
    assert len(client.get("/suggest", params={"q": "t", "limit": 3}).json()["suggestions"]) <= 3
    assert client.get("/suggest", params={"q": "qzxqzx"}).json()["suggestions"] == []


def test_stats_health_and_complete_js(client, real_archive) -> None:
    total = sum(len(ids) for ids in real_archive.groups.values())
    assert client.get("/health").json() == {"status": "ok", "documents": total}
    stats = client.get("/stats").json()
    assert stats["documents"] == total and stats["size_bytes"] > 0
    js = client.get("/complete.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/openapi.json").status_code == 200


def test_paging_last_page_and_beyond(client, real_archive) -> None:
    query = query_text(real_archive, "unaccented")
    total = api_search(client, q=query, limit=9)["total"]
    last = -(-total // 9)
    assert len(api_search(client, q=query, limit=9, page=last)["hits"]) == total - 9 * (last - 1)
    beyond = api_search(client, q=query, limit=9, page=last + 1)
    assert beyond["hits"] == [] and beyond["total"] == total
    deep = client.get("/search", params={"q": query, "limit": 100, "page": 101})
    assert deep.status_code == 400 and deep.json()["error"]["param"] == "page"
