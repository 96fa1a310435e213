"""Abbreviations: a query for ``UBND`` also finds ``Ủy ban nhân dân``, and back.

Vietnamese news writes the same body both ways, often in one article. The groups
of equivalent forms live in an editable text file (``search/data/abbreviations.txt``,
or the file named by ``VNSEARCH_ABBREVIATIONS``): one group per line, forms joined
by ``=``. Forms are compared as folded word sequences, so case, accents and dots
do not matter (``TP.HCM`` = ``tp hcm``).

:func:`expand` rewrites the free words of a query (not quoted phrases, fielded or
excluded terms) into ``(form OR "other form" …)`` groups, so the rest of the query
machinery needs to know nothing about abbreviations.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from search.normalize import token_tuples

DEFAULT_FILE = Path(__file__).parent / "data" / "abbreviations.txt"
ENV_VAR = "VNSEARCH_ABBREVIATIONS"

Form = tuple[str, ...]  # folded words


class AbbreviationError(ValueError):
    """The abbreviations file cannot be read; the message names the file and line."""


def current_file() -> Path:
    """The abbreviations file in force (``VNSEARCH_ABBREVIATIONS`` or the shipped one)."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_FILE)


@lru_cache(maxsize=8)
def load(path: Path, version: tuple = ()) -> dict[Form, list[str]]:
    """Folded form → every written form equivalent to it (itself included).

    *version* (the file's modification time and size) is part of the cache key, so
    an edited file is read again.
    """
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AbbreviationError(f"cannot read abbreviations file {path}: {exc}") from None
    table: dict[Form, list[str]] = {}
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        forms = [f.strip() for f in line.split("=") if f.strip()]
        if len(forms) < 2:
            raise AbbreviationError(
                f"{path}:{number}: a group needs two or more forms joined by '=': {line!r}"
            )
        for form in forms:
            key = _key(form)
            if not key:
                raise AbbreviationError(f"{path}:{number}: form {form!r} has no words")
            known = table.setdefault(key, [])
            known.extend(f for f in forms if f not in known)
    return table


def table() -> dict[Form, list[str]]:
    """The abbreviation table in force, re-read when its file changes."""
    path = current_file()
    try:
        info = path.stat()
    except OSError as exc:
        raise AbbreviationError(f"cannot read abbreviations file {path}: {exc}") from None
    return load(path, (info.st_mtime_ns, info.st_size))


def _key(form: str) -> Form:
    return tuple(t[1] for t in token_tuples(form))


# A part of the query the rewrite leaves alone: a quoted phrase, or a term with a
# field, a +/- prefix or pattern characters.
_PROTECTED = re.compile(r'"[^"]*"?|(?:(?<=\s)|^)(?:[-+]|\w+:)\S*|\S*[*?~^]\S*')


def expand(query: str) -> str:
    """*query* with every abbreviation or full form as an OR group of all its forms.

    ``UBND quận`` → ``(UBND OR "Ủy ban nhân dân") quận``. Longest forms win
    (``Thành phố Hồ Chí Minh`` before ``Thành phố``).
    """
    forms = table()
    if not forms:
        return query
    longest = max(len(k) for k in forms)
    protected = [m.span() for m in _PROTECTED.finditer(query)]
    toks = [t for t in token_tuples(query) if not any(a <= t[2] < b for a, b in protected)]
    out, last, i = [], 0, 0
    while i < len(toks):
        match = None
        for n in range(min(longest, len(toks) - i), 0, -1):
            window = toks[i : i + n]
            if not _contiguous(query, window):
                continue
            key = tuple(t[1] for t in window)
            if key in forms:
                match = (n, forms[key])
                break
        if match is None:
            i += 1
            continue
        n, group = match
        start, end = toks[i][2], toks[i + n - 1][3]
        out.append(query[last:start])
        out.append("(" + " OR ".join(_quoted(f) for f in group) + ")")
        last, i = end, i + n
    out.append(query[last:])
    return "".join(out)


def _contiguous(query: str, window: list) -> bool:
    """True when only spaces and joining punctuation separate the words of *window*."""
    gaps = (query[a[3] : b[2]] for a, b in zip(window, window[1:], strict=False))
    return all(re.fullmatch(r"[\s.&\-]*", gap) for gap in gaps)


def _quoted(form: str) -> str:
    words = [t[0] for t in token_tuples(form)]
    return words[0] if len(words) == 1 else '"' + " ".join(words) + '"'
