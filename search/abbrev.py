"""Abbreviations: a query for ``UBND`` also finds ``Ủy ban nhân dân``, and back.

Vietnamese news writes the same body both ways, often in one article. The groups
of equivalent forms live in an editable text file (``search/data/abbreviations.txt``,
or the file named by ``VNSEARCH_ABBREVIATIONS``): one group per line, forms joined
by ``=``. Forms are compared as folded word sequences, so case, accents and dots
do not matter (``TP.HCM`` = ``tp hcm``).

:func:`find` finds the forms among a query's free words; the query language
(:class:`search.syntax.AbbreviationPlugin`) turns each into an OR group of all its
forms, so the rest of the query machinery needs to know nothing about abbreviations.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
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
def load(path: Path, version: tuple[int, int] | tuple[()] = ()) -> dict[Form, list[str]]:
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


@dataclass(frozen=True)
class Found:
    """A form found in a query's words: where (first word, how many) and all its forms."""

    start: int
    count: int
    forms: list[str]


def find(words: Sequence[str], joined: Sequence[bool],
         forms: dict[Form, list[str]]) -> list[Found]:
    """The forms of *forms* among *words* (folded), left to right, longest first
    (``Thành phố Hồ Chí Minh`` before ``Thành phố``).

    ``joined[i]`` says whether words *i* and *i + 1* stand together (:func:`joins`);
    a form's words must.
    """
    longest = max((len(k) for k in forms), default=0)
    found, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            key = tuple(words[i : i + n])
            if key in forms and all(joined[i : i + n - 1]):
                found.append(Found(i, n, forms[key]))
                i += n
                break
        else:
            i += 1
    return found


#: What may stand between the words of one form: spaces and joining punctuation.
_JOINING = re.compile(r"[\s.&\-]*")


def joins(gap: str) -> bool:
    """True when *gap* (the text between two words) keeps them one name (``TP.HCM``)."""
    return _JOINING.fullmatch(gap) is not None


def form_words(form: str) -> list[str]:
    """A form's words as written (``TP.HCM`` → ``tp``, ``hcm``), for a phrase of them."""
    return [t[0] for t in token_tuples(form)]
