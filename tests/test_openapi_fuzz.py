"""Schemathesis against the OpenAPI document: generated requests to every endpoint.

Valid and invalid parameters (any Unicode, huge numbers, wrong types, missing ones)
are sent to the ASGI app serving the seeds plus real VNTC and baomoi articles.
Checks: never a 5xx, every answer's status is documented and its body matches the
schema the document declares for that status (so ``/openapi.json`` is a contract).
The number of generated cases is printed at the end of the module.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from search.http import create_app
from search.indexer import index_paths
from tests.conftest import CORPUS, shared_file, vntc_records
from tests.test_http import running_server

#: Examples per operation and generation mode: bounds the module to about a minute.
EXAMPLES = 100
BAOMOI_SAMPLE = 150
CASES: dict[str, int] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def real_archive(root: Path) -> Path:
    """The seeds, 300 VNTC articles and 150 raw baomoi files in one directory."""
    archive = root / "archive"
    shutil.copytree(CORPUS, archive)
    (archive / "vntc.jsonl").write_text("".join(vntc_records(300)), encoding="utf-8")
    with tarfile.open(shared_file("baomoi-2017.tar.gz")) as tar:
        members = []
        for member in tar:
            if member.isfile() and member.name.endswith(".txt"):
                members.append(member)
            if len(members) == BAOMOI_SAMPLE:
                break
        tar.extractall(archive / "baomoi", members=members, filter="data")
    return archive


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """The app's own OpenAPI document, loaded by schemathesis from the ASGI app."""
    root = tmp_path_factory.mktemp("openapi-fuzz")
    summary = index_paths(root / "ix", [real_archive(root)])
    assert summary.documents > 400 and not summary.failed
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(root / "ix"))
    line = f"schemathesis: {sum(CASES.values())} generated cases: " + ", ".join(
        f"{op} {n}" for op, n in sorted(CASES.items()))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + line)


# Schemathesis' own pytest loader (``from_fixture``) needs a pytest private that
# pytest 9 dropped, so each operation's cases are drawn with Hypothesis directly.
# Invalid input exists only where parameters are constrained (types, ranges, lengths):
# any string is a valid article id, and /stats and /health take nothing.
RUNS = [
    ("/search", GenerationMode.POSITIVE, 3 * EXAMPLES),
    ("/search", GenerationMode.NEGATIVE, EXAMPLES),
    ("/suggest", GenerationMode.POSITIVE, EXAMPLES),
    ("/suggest", GenerationMode.NEGATIVE, EXAMPLES),
    ("/articles/{doc_id}", GenerationMode.POSITIVE, EXAMPLES),
    ("/stats", GenerationMode.POSITIVE, 5),
    ("/health", GenerationMode.POSITIVE, 5),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "mode", "examples"), RUNS)
def test_no_server_error_and_answers_match_the_document(api_schema, path, mode,
                                                       examples) -> None:
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        key = f"GET {path} {mode.value}"
        CASES[key] = CASES.get(key, 0) + 1
        case.call_and_validate(checks=CHECKS)

    check()


def test_the_document_declares_every_answer() -> None:
    """Fast companion: the document describes errors in the shape the server sends."""
    with running_server(Path("/nonexistent")) as url, httpx2.Client(base_url=url) as client:
        spec = client.get("/openapi.json").json()
        # With no index, the server answers 503 in that shape, not a traceback.
        r = client.get("/search", params={"q": "ha noi"})
        assert r.status_code == 503 and r.json()["error"]["message"]
    error_ref = "#/components/schemas/ErrorBody"
    for path in ("/search", "/suggest", "/articles/{doc_id}", "/health", "/stats"):
        responses = spec["paths"][path]["get"]["responses"]
        assert "200" in responses and "503" in responses, path
        for status, answer in responses.items():
            if status != "200":
                assert answer["content"]["application/json"]["schema"]["$ref"] == error_ref

