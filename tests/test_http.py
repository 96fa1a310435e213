"""The HTTP API and page, against a real server on a free loopback port."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2
import pytest
import uvicorn

from search.generations import POOL_SIZE, Searchers, registry
from search.http import create_app
from search.indexer import index_paths
from search.limits import MAX_QUERY_CHARS
from search.query import run
from tests.conftest import CORPUS, REPO, SEED_IDS

BA_DINH = {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(index_dir: Path, searchers: int = POOL_SIZE) -> Iterator[str]:
    """Serve *index_dir* on a free loopback port in a thread; yield the base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(index_dir, searchers), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("http-archive")
    shutil.copytree(CORPUS, root / "corpus")
    (root / "corpus" / "xss.txt").write_text(
        "Bài có mã <script>alert('xss')</script> trong tiêu đề\n\n"
        "Nội dung có <b>thẻ</b> và <script>document.title='pwned'</script> ở quận Ba Đình.\n",
        encoding="utf-8",
    )
    index_dir = root / "ix"
    index_paths(index_dir, [root / "corpus"])
    with running_server(index_dir) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=base_url, timeout=30) as c:
        yield c


def test_search_same_shape_as_cli_json(client) -> None:
    r = client.get("/search", params={"q": "quan uy ba dinh"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert {"query", "total", "page", "limit", "took_ms", "hits"} <= set(data)
    assert {h["id"] for h in data["hits"]} >= BA_DINH
    marked = {s["text"][a:b] for h in data["hits"] for s in h["snippets"] for a, b in s["matches"]}
    assert "Đình" in marked


def test_search_filters_sort_and_facets(client) -> None:
    data = client.get("/search", params={"q": "dang", "place": "ba dinh", "facets": "true",
                                         "sort": "date", "since": "2020", "until": "2020-12"}).json()
    assert [h["id"] for h in data["hits"]] == ["001_f4567b4d3bda134d.txt"]
    assert data["facets"]["year"] == {"2020": 1}
    assert client.get("/search", params={"q": "", "author": "tran hoa"}).json()["total"] == 1
    assert client.get("/search", params={"q": "dang", "source": "ntl"}).json()["total"] == 1


@pytest.mark.parametrize(
    ("params", "status", "param"),
    [
        ({"q": "dang", "limit": 0}, 422, "limit"),
        ({"q": "dang", "limit": 101}, 422, "limit"),
        ({"q": "dang", "limit": "ten"}, 422, "limit"),
        ({"q": "dang", "page": 0}, 422, "page"),
        ({"q": "dang", "page": 1001}, 422, "page"),
        ({"q": "dang", "page": 200, "limit": 100}, 400, "page"),  # too deep
        ({"q": "dang", "sort": "oldest"}, 422, "sort"),
        ({"q": "dang", "since": "yesterday"}, 400, "since"),
        ({"q": "dang", "until": "2023-13"}, 400, "until"),
        ({"q": "dang", "place": "!!!"}, 400, "place"),
        ({"q": "date:[2024 TO 2023]"}, 400, "q"),
        ({"q": "!!!"}, 400, "q"),
        ({"q": ""}, 400, "q"),
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, 422, "q"),
        ({"q": "dang", "facets": "maybe"}, 422, "facets"),
    ],
)
def test_bad_input_is_a_json_error_naming_the_parameter(client, params, status, param) -> None:
    r = client.get("/search", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["param"] == param and body["error"]["message"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize("q", ['"unclosed', "(a", "a AND", "OR OR", "*", "[a TO", "title:", "-"])
def test_odd_syntax_never_gives_500(client, q) -> None:
    assert client.get("/search", params={"q": q}).status_code in (200, 400)


def test_articles_endpoint(client) -> None:
    r = client.get(f"/articles/{SEED_IDS[4]}")
    assert r.status_code == 200
    data = r.json()
    assert data["id"] == SEED_IDS[4] and data["places"] == ["Gò Vấp", "TP.HCM"]
    assert data["author"] == "An Nhiên" and "body" in data
    missing = client.get("/articles/no/such.txt")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "id"


def test_stats_health_openapi(client) -> None:
    assert client.get("/health").json() == {"status": "ok", "documents": 6}
    stats = client.get("/stats").json()
    assert stats["documents"] == 6 and "text_f" in stats["fields"]
    spec = client.get("/openapi.json").json()
    assert {"/search", "/articles/{doc_id}", "/stats", "/health"} <= set(spec["paths"])


def test_page_renders_accented_marks_for_an_unaccented_query(client) -> None:
    r = client.get("/", params={"q": "quan uy ba dinh"})
    assert r.status_code == 200 and "charset=utf-8" in r.headers["content-type"]
    assert "<mark>Đình</mark>" in r.text
    for doc_id in BA_DINH:
        assert f'href="/a/{doc_id}?q=quan+uy+ba+dinh"' in r.text  # the article page marks it
    assert 'class="facets"' in r.text and "Ba Đình" in r.text


def test_page_and_api_escape_article_text(client) -> None:
    page = client.get("/", params={"q": "script"})
    # "script" itself is a match, so it is marked inside the escaped tag.
    assert "<script>" not in page.text and "&lt;<mark>script</mark>&gt;" in page.text
    article = client.get("/a/xss.txt")
    assert article.status_code == 200
    assert "<script>" not in article.text and "&lt;script&gt;alert" in article.text
    assert "<b>thẻ</b>" not in article.text
    api = client.get("/search", params={"q": "script"}).json()
    html = " ".join(s["html"] for h in api["hits"] for s in h["snippets"])
    assert "<script>" not in html and "&lt;<mark>script</mark>&gt;" in html


def test_page_reflects_the_query_escaped(client) -> None:
    r = client.get("/", params={"q": '"><img src=x onerror=alert(1)>'})
    assert r.status_code == 200 and "<img src=x" not in r.text


def test_page_counts_the_hits_lacking_a_word(client) -> None:
    r = client.get("/", params={"q": "quan uy ba dinh"})
    data = client.get("/search", params={"q": "quan uy ba dinh"}).json()
    assert data["missing_one"] > 0 and r.status_code == 200
    assert f"{data['total']} kết quả ({data['missing_one']} thiếu một từ)" in r.text


def test_page_filters_and_pagination_links(client) -> None:
    r = client.get("/", params={"q": "dang", "place": "Ba Đình", "year": "2020"})
    assert r.status_code == 200 and "1 kết quả" in r.text
    many = client.get("/", params={"q": "dang"})
    assert "6 kết quả" in many.text or "5 kết quả" in many.text
    assert client.get("/a/missing.txt").status_code == 404


def test_binding_is_loopback_by_default() -> None:
    import inspect

    from search.cli import serve_cmd

    params = inspect.signature(serve_cmd).parameters
    assert params["host"].default == "127.0.0.1"
    assert params["searchers"].default == POOL_SIZE  # the CLI does not import http to say it


def test_new_index_is_served_without_restart(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [archive])
    # Three searchers: requests run at once on several, and each is replaced in turn.
    with running_server(index_dir, searchers=3) as url, \
            httpx2.Client(base_url=url, timeout=30) as c:
        assert c.get("/search", params={"q": "zyxwvut"}).json()["total"] == 0
        errors: list[str] = []
        stop = threading.Event()

        def hammer() -> None:  # searches running while the index changes must complete
            while not stop.is_set():
                r = c.get("/search", params={"q": "dang vien"})
                if r.status_code != 200 or r.json()["total"] < 5:
                    errors.append(r.text)

        workers = [threading.Thread(target=hammer) for _ in range(3)]
        for w in workers:
            w.start()
        (archive / "new.txt").write_text("Tin mới zyxwvut\n\nNội dung zyxwvut ở quận Gò Vấp.",
                                         encoding="utf-8")
        index_paths(index_dir, [archive])
        assert c.get("/search", params={"q": "zyxwvut"}).json()["total"] == 1
        (archive / "new2.txt").write_text("Tin khác qponmlk\n\nNội dung.", encoding="utf-8")
        index_paths(index_dir, [archive], rebuild=True)
        assert c.get("/search", params={"q": "qponmlk"}).json()["total"] == 1
        assert c.get("/health").json()["documents"] == 7
        stop.set()
        for w in workers:
            w.join()
        assert errors == []


def test_suggestion_in_api_and_page(client) -> None:
    data = client.get("/search", params={"q": "quan uy ba dinh"}).json()
    assert data["suggestion"] == "Quận ủy Ba Đình" and data["corrected"] is False
    page = client.get("/", params={"q": "quan uy ba dinh"}).text
    assert "Có phải bạn muốn tìm: <a href=\"/?q=Qu%E1%BA%ADn+%E1%BB%A7y+Ba+%C4%90%C3%ACnh\">" \
        "Quận ủy Ba Đình</a>" in page
    fixed = client.get("/", params={"q": "quaanj uyr"}).text
    assert "Không có kết quả cho «quaanj uyr». Kết quả cho:" in fixed and 'class="hit"' in fixed
    strict = client.get("/search", params={"q": "quaanj uyr", "exact": "true"}).json()
    assert strict["total"] == 0 and strict["corrected"] is False


def test_suggest_endpoint(client) -> None:
    r = client.get("/suggest", params={"q": "ba d"})
    assert r.status_code == 200
    assert r.json()["suggestions"][0] == {"text": "Ba Đình", "kind": "place", "count": 3, "id": None}
    assert client.get("/suggest", params={"q": "ba", "limit": 0}).json()["error"]["param"] == "limit"
    assert client.get("/suggest").status_code == 422
    assert client.get("/suggest", params={"q": "x" * 201}).status_code == 422
    # JSON carries the title as data; the page inserts it as text (see test_browser).
    found = client.get("/suggest", params={"q": "<script>"}).json()["suggestions"]
    assert [s["text"] for s in found] == ["Bài có mã <script>alert('xss')</script> trong tiêu đề"]
    js = client.get("/static/complete.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text  # suggestions are inserted as text, never as HTML


def test_a_new_generation_releases_the_old_segments_arrays(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [archive])
    pool = Searchers(index_dir)
    with pool.searcher() as old:
        run(old, "quan uy ba dinh")
    assert registry.held(old)["posting arrays"] > 0
    (archive / SEED_IDS[0]).unlink()  # a deletion: the old segment's token changes
    index_paths(index_dir, [archive], rebuild=True)
    time.sleep(0.01)
    with pool.searcher() as new:
        assert run(new, "quan uy ba dinh").total >= 1
    assert registry.held(new)["posting arrays"] > 0
    assert registry.held(old)["posting arrays"] == 0  # nothing of it is shared with the new one
    pool.close()


@pytest.mark.slow
def test_soak_mode_reports_no_failures_and_the_switch_to_new_articles(tmp_path: Path) -> None:
    """bench/load_http.py --soak, briefly: clients on every endpoint while an index run
    adds an article; the real run (minutes, 16 clients, baomoi) is in the README."""
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "load_http.py"), "--soak", "4", "--clients", "2",
         "--archive", str(CORPUS), "--added", "1", "--work", str(tmp_path / "work"),
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["requests"] > 20 and result["failures"] == 0, result["first_failures"]
    assert result["switched"] and result["marker_hit_at_s"] is not None
    assert result["documents_seen"][-1][1] == result["documents_before"] + 2  # +1 and the marker
    assert result["mid_run_index"]["exit_code"] == 0 and result["within_budget"]
    assert "failures 0" in done.stdout and "switched: True" in done.stdout
