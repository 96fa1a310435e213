"""What the HTTP server sends besides answers: its fixed static files and safety headers.

Why a fixed table of files: ``/static/{name}`` looks *name* up in :data:`ASSETS` and
never joins it to a directory, so no URL (``..``, ``%2e%2e``, absolute paths, NUL
bytes) can make the server read a file it was not built to send. The files are the
page's CSS and scripts and the Swagger UI that ``/docs`` runs, shipped with the
package (``swagger-ui-bundle-v2``): the docs work offline, and no page fetches
anything from outside the machine.

Why the headers: the Content-Security-Policy lets pages load scripts, styles and
connections from this server only, and no inline script at all, so even markup that
slipped through escaping could not run; ``nosniff`` stops a browser from reading a
JSON answer as HTML; ``no-referrer`` keeps the user's queries out of other sites' logs.
There is no CORS header: other sites' pages cannot read the API from a browser.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

import swagger_ui_bundle
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent / "static"

#: Every directive names this server only; ``data:`` images are Swagger UI's icons.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
#: Static files may be cached a day; they change only with the package.
STATIC_MAX_AGE = 86400


def _assets() -> dict[str, tuple[Path, str]]:
    swagger = Path(str(swagger_ui_bundle.swagger_ui_path))
    return {
        "page.css": (STATIC / "page.css", "text/css; charset=utf-8"),
        "complete.js": (STATIC / "complete.js", "text/javascript; charset=utf-8"),
        "page.js": (STATIC / "page.js", "text/javascript; charset=utf-8"),
        "docs.js": (STATIC / "docs.js", "text/javascript; charset=utf-8"),
        "swagger-ui.css": (swagger / "swagger-ui.css", "text/css; charset=utf-8"),
        "swagger-ui-bundle.js": (swagger / "swagger-ui-bundle.js",
                                 "text/javascript; charset=utf-8"),
        "favicon-32x32.png": (swagger / "favicon-32x32.png", "image/png"),
    }


#: URL name under /static/ → (file, media type): the only files the server reads.
ASSETS = _assets()


@cache
def asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and media type of static file *name*, or None when there is no such file."""
    found = ASSETS.get(name)
    if found is None:
        return None
    path, media_type = found
    return path.read_bytes(), media_type


def docs_page() -> str:
    """The ``/docs`` page: Swagger UI from :data:`ASSETS`, started by a file script."""
    return (STATIC / "docs.html").read_text(encoding="utf-8")


def is_loopback(host: str) -> bool:
    """Whether binding *host* keeps the server on this machine (``localhost`` counts)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name that may resolve to a public address: warn


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
