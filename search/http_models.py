"""The shapes of the HTTP API's answers, as the OpenAPI document declares them.

Why a module of models when the endpoints return plain dicts: the document at
``/openapi.json`` is a contract that clients, ``/docs`` and the schemathesis tests
check answers against. Endpoints still build their JSON from the library's
``as_dict()`` (one shape for CLI ``--json`` and HTTP); these models only describe it,
so they list the fields every answer has and allow the extra extracted ones.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from search.service import NoticeKind


class ErrorDetail(BaseModel):
    param: str | None = None
    message: str


class ErrorBody(BaseModel):
    """Every error: ``{"error": {"param", "message"}}``; *param* names the culprit."""

    error: ErrorDetail


class SnippetModel(BaseModel):
    text: str
    matches: list[list[int]]
    html: str


class HitModel(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    path: str | None = None
    title: str | None = None
    date: str | None = None
    author: str | None = None
    source: str | None = None
    score: float
    snippets: list[SnippetModel]


class NoticeModel(BaseModel):
    """What the user should be told about a result (decided by the service)."""

    kind: NoticeKind
    query: str | None = None
    relaxed: str | None = None
    count: int | None = None


class SearchAnswer(BaseModel):
    query: str
    total: int
    page: int
    limit: int
    took_ms: float
    sort: str
    fallback: bool
    relaxed: str | None = None
    partial: bool
    suggestion: str | None = None
    corrected: bool
    typos: int
    missing_one: int = 0
    hits: list[HitModel]
    notices: list[NoticeModel]
    facets: dict[str, dict[str, int]] | None = None


class SuggestionModel(BaseModel):
    text: str
    kind: str
    count: int
    id: str | None = None


class SuggestAnswer(BaseModel):
    prefix: str
    suggestions: list[SuggestionModel]


class ArticleAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    title: str | None = None
    places: list[str]
    people: list[str]


class HealthAnswer(BaseModel):
    status: str
    documents: int


class StatsAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    documents: int
    size_bytes: int
    fields: list[str]


def answers(ok: type[BaseModel], *errors: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: its 200 model and the error statuses it can give."""
    why = {
        400: "The query or a filter cannot be used (the message says why)",
        404: "No such article",
        422: "A parameter is missing, of the wrong type or out of range",
        503: "No usable index yet, or the server is busy",
    }
    table: dict[int | str, dict[str, Any]] = {200: {"model": ok}}
    for status in (*errors, 503):
        table[status] = {"model": ErrorBody, "description": why[status]}
    return table
