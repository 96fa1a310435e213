"""The query language: what a user may type, and how Whoosh's parser reads it.

The language is Whoosh's (``"phrases"``, ``-excluded``, ``+required``, ``OR``,
``NOT``, parentheses, ``field:value``, ``word*``), read against a small *query
schema* (:data:`QUERY_SCHEMA`: the fields a user can name), plus two things of our
own, both written as Whoosh parser plugins (``whoosh.qparser.plugins``), so the
raw text is never rewritten before Whoosh reads it:

* ``place:`` and ``date:`` terms (:class:`FilterTermsPlugin`): ``place:"Ba Đình"``,
  ``place:hanoi``, ``date:2023``, ``date:2023-06``, ``date:15/6/2023``,
  ``date:[2022-06 TO 2023-06]``, ``date:[2021 TO]``. They restrict the search rather
  than being scored words: :func:`split_filters` takes them out of the text and adds
  them to a :class:`search.filters.Filters`.
* abbreviations (:class:`AbbreviationPlugin`): a free word sequence that is a form
  in :mod:`search.abbrev`'s table (``UBND``, ``Ủy ban nhân dân``) becomes an OR
  group of all its forms. Quoted phrases, ``-``/``+`` prefixed words, ``field:``
  terms and pattern (``* ? ~ ^``) terms are left as typed.

:func:`has_syntax` answers whether a text uses any of the language beyond plain
words (did-you-mean and the accent readings leave such text alone).
:mod:`search.query` maps the parsed tree onto the index fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from whoosh import query as wq
from whoosh.fields import ID as ID_TYPE
from whoosh.fields import TEXT, Schema
from whoosh.qparser import (
    AndGroup,
    BoostPlugin,
    FieldnameNode,
    GroupNode,
    OrGroup,
    PhrasePlugin,
    Plugin,
    PlusMinusPlugin,
    PrefixPlugin,
    QueryParser,
    TaggingPlugin,
    Whitespace,
    WildcardPlugin,
    WordNode,
)
from whoosh.qparser.syntax import SyntaxNode

from search import abbrev
from search.analysis import EXACT, FOLDED
from search.dates import date_bounds, date_range
from search.errors import QueryError
from search.filters import DateRange, Filters
from search.limits import MAX_QUERY_CHARS
from search.normalize import nfc, token_tuples
from search.schema import AUTHOR, BODY, ID, PEOPLE, SOURCE, TITLE

#: The field a word typed without ``field:`` searches (all of an article's text).
DEFAULT_FIELD = "text"
#: Metadata fields a user can name, searched through their own (folded) analysis.
META_FIELDS = (AUTHOR, SOURCE, PEOPLE)

#: The fields a user can name in a query, analysed as the parser needs them.
QUERY_SCHEMA = Schema(**{
    DEFAULT_FIELD: TEXT(analyzer=EXACT, phrase=True),
    TITLE: TEXT(analyzer=EXACT, phrase=True),
    BODY: TEXT(analyzer=EXACT, phrase=True),
    **{name: TEXT(analyzer=FOLDED, phrase=True) for name in META_FIELDS},
    ID: ID_TYPE,
})


# --------------------------------------------------------------------------- place: and date:

class FilterTerm(SyntaxNode):
    """A ``place:`` or ``date:`` term: a restriction, never a word to score."""

    def __init__(self, name: str, value: str, ranged: bool) -> None:
        self.name = name
        self.value = value
        self.ranged = ranged

    def r(self) -> str:
        return f"{self.name}:{'[' + self.value + ']' if self.ranged else repr(self.value)}"

    def query(self, parser: QueryParser) -> None:
        """Nothing to score: :func:`split_filters` turns the term into a filter."""
        return None


class FilterTermsPlugin(TaggingPlugin):
    """Tags ``place:…`` and ``date:…`` terms (bare, ``"quoted"`` or ``[ranged]``).

    It runs before Whoosh's own field and range taggers, so ``date:[2022 TO 2023]``
    is one term, not a field followed by a range. The name is case-insensitive; a
    term glued to a word or field before it (``xdate:``) is not one.
    """

    expr = re.compile(r'(?<![\w:])(?P<name>place|date):'
                      r'(?:"(?P<quoted>[^"]*)"|\[(?P<ranged>[^\]]*)\]|(?P<bare>\S+))',
                      re.IGNORECASE)
    priority = -2

    def create(self, parser: QueryParser, match: re.Match[str]) -> FilterTerm:
        ranged = match.group("ranged")
        value = ranged if ranged is not None else match.group("quoted")
        if value is None:
            value = match.group("bare") or ""
        return FilterTerm(match.group("name").lower(), value, ranged is not None)


@dataclass(frozen=True)
class Split:
    """A query's words (its filter terms blanked out) and the filters they named."""

    words: str
    places: tuple[str, ...]
    date_ranges: tuple[DateRange, ...]


def split_filters(text: str, filters: Filters | None = None) -> tuple[str, Filters]:
    """*text* without its ``place:``/``date:`` terms, and *filters* with them added.

    *filters* is left as it is: the result is a new value. Raises
    :class:`search.filters.QueryError` (``param`` ``q``) for a date that is not one.
    """
    split = split_text(text)
    found = (filters or Filters()).adding(places=split.places, date_ranges=split.date_ranges)
    return split.words, found


def split_text(text: str) -> Split:
    """The words and filter terms of *text*, found by the parser's taggers."""
    if ":" not in text:  # every filter term has one: spare the tagging (~0.1 ms)
        return Split(text, (), ())
    out, last = [], 0
    places: list[str] = []
    ranges: list[DateRange] = []
    for node in _TAGGER.tag(text):
        if not isinstance(node, FilterTerm):
            continue
        out += [text[last:node.startchar], " "]
        last = node.endchar
        if node.name == "place":
            places.append(node.value)
        else:
            ranges.append(_date_term(node))
    out.append(text[last:])
    return Split("".join(out), tuple(places), tuple(ranges))


def _date_term(term: FilterTerm) -> DateRange:
    try:
        return date_range(term.value) if term.ranged else date_bounds(term.value)
    except ValueError as exc:
        raise QueryError(str(exc), "q") from None


# --------------------------------------------------------------------------- abbreviations

#: Characters that make a word a pattern or a boost, which expansion leaves alone.
PATTERN_CHARS = frozenset("*?~^")
#: Nodes that make the run of text they stand in a pattern or boost.
_PATTERN_NODES = (WildcardPlugin.WildcardNode, PrefixPlugin.PrefixNode, BoostPlugin.BoostNode)
_SIGNS = (PlusMinusPlugin.Plus, PlusMinusPlugin.Minus)


@dataclass(frozen=True)
class _Token:
    """A word of a free node: where it is (node index, offsets in the node's text)."""

    node: int
    start: int
    end: int
    folded: str


class AbbreviationPlugin(Plugin):
    """Expands abbreviations and full forms into OR groups of every form.

    ``UBND quận`` reads as ``(ubnd OR "ủy ban nhân dân") quận``. It works on the
    tagged tree before field names and ``+``/``-`` are applied (so it still sees
    which words follow a ``field:`` or a sign) and while whitespace is still
    there (a form's words must stand together: only spaces and ``. & -`` between
    them, so ``TP.HCM`` and ``KT-XH`` are one name, ``ủy ban, nhân dân`` is not).
    """

    #: After wildcards are merged (50), before field names are applied (100).
    priority = 95

    def filters(self, parser: QueryParser) -> list[
            tuple[Callable[[QueryParser, GroupNode], GroupNode], int]]:
        return [(self.expand, self.priority)]

    def expand(self, parser: QueryParser, group: GroupNode) -> GroupNode:
        """The filter: the query's tree with every form found expanded."""
        forms = abbrev.table()  # read once per query; re-read when its file changes
        return _expanded(group, forms) if forms else group


def _expanded(group: GroupNode, forms: dict[abbrev.Form, list[str]]) -> GroupNode:
    """*group* (and its subgroups) with each form found replaced by its OR group."""
    nodes = [_expanded(n, forms) if isinstance(n, GroupNode) else n for n in group]
    tokens = list(_free_tokens(nodes))
    joined = [_joined(nodes, a, b) for a, b in zip(tokens, tokens[1:], strict=False)]
    found = abbrev.find([t.folded for t in tokens], joined, forms)
    new = group.empty_copy()
    new.extend(_rebuilt(nodes, tokens, found) if found else nodes)
    return new


def _free_tokens(nodes: Sequence[SyntaxNode]) -> Iterator[_Token]:
    """The words expansion may rewrite: plain words outside protected runs.

    A run (nodes between whitespace) is protected when it starts with ``+``/``-``,
    holds a ``field:`` or a pattern/boost; an unclosed quote protects the rest.
    """
    run: list[int] = []
    for i in [*range(len(nodes)), None]:
        if i is not None and not isinstance(nodes[i], Whitespace):
            run.append(i)
            continue
        free = run and not _protected([nodes[j] for j in run])
        for j in (j for j in run if type(nodes[j]) is WordNode):
            text = nfc(nodes[j].text)
            quote = text.find('"')
            if free:
                yield from (t for t in _node_tokens(j, text) if quote < 0 or t.end <= quote)
            if quote >= 0:
                return
        run = []


def _protected(run: list[SyntaxNode]) -> bool:
    return isinstance(run[0], _SIGNS) or any(
        isinstance(n, (FieldnameNode, *_PATTERN_NODES))
        or (type(n) is WordNode and not PATTERN_CHARS.isdisjoint(n.text)) for n in run
    )


def _node_tokens(index: int, text: str) -> Iterator[_Token]:
    for tok in token_tuples(text):
        yield _Token(index, tok[2], tok[3], tok[1])


def _joined(nodes: Sequence[SyntaxNode], a: _Token, b: _Token) -> bool:
    """Whether only spaces and joining punctuation stand between words *a* and *b*."""
    if a.node == b.node:
        return abbrev.joins(nfc(nodes[a.node].text)[a.end : b.start])
    between = []
    for node in nodes[a.node + 1 : b.node]:
        if isinstance(node, Whitespace):
            between.append(" ")
        elif isinstance(node, PlusMinusPlugin.Minus):  # KT-XH: tagged as a sign
            between.append("-")
        elif type(node) is WordNode:  # punctuation alone: "TP & HCM"
            between.append(node.text)
        else:
            return False
    gap = nfc(nodes[a.node].text)[a.end :] + "".join(between) + nfc(nodes[b.node].text)[: b.start]
    return abbrev.joins(gap)


def _rebuilt(nodes: Sequence[SyntaxNode], tokens: Sequence[_Token],
             found: Sequence[abbrev.Found]) -> list[SyntaxNode]:
    """*nodes* with each found form's words replaced by an OR group of its forms;
    the text of a node before or after the form stays as a word of its own."""
    out: list[SyntaxNode] = []
    node, offset = 0, 0  # what is not yet copied: nodes[node].text[offset:] on
    for match in found:
        first, last = tokens[match.start], tokens[match.start + match.count - 1]
        out += _between(nodes, (node, offset), (first.node, first.start))
        span = (nodes[first.node].startchar + first.start, nodes[last.node].startchar + last.end)
        out.append(OrGroup([_form_node(f).set_range(*span) for f in match.forms]))
        node, offset = last.node, last.end
    out += _between(nodes, (node, offset), (len(nodes), 0))
    return out


def _between(nodes: Sequence[SyntaxNode], start: tuple[int, int],
             end: tuple[int, int]) -> list[SyntaxNode]:
    """The nodes from *start* to *end* (each a node index and text offset)."""
    (first, offset), (last, stop) = start, end
    out: list[SyntaxNode] = []
    for i in range(first, min(last + 1, len(nodes))):
        lo = offset if i == first else 0
        hi = stop if i == last else None
        if lo == 0 and hi is None:
            out.append(nodes[i])
        elif piece := nfc(nodes[i].text)[lo:hi]:
            at = nodes[i].startchar + lo
            out.append(WordNode(piece).set_range(at, at + len(piece)))
    return out


def _form_node(form: str) -> SyntaxNode:
    """One form in an OR group: a word, or a phrase of its words."""
    words = abbrev.form_words(form)
    if len(words) == 1:
        return WordNode(words[0])
    return PhrasePlugin.PhraseNode(" ".join(words), 0)


# --------------------------------------------------------------------------- the parser

def parse_text(text: str, *, any_word: bool = False) -> wq.Query:
    """*text* parsed by :func:`parser` (abbreviations expanded), or a
    :class:`QueryError` that says what is wrong with it: empty, over-long, or syntax
    the parser cannot read. Every engine parses a user's query through here."""
    text = text.strip()
    if not text:
        raise QueryError("empty query: type some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; the limit is {MAX_QUERY_CHARS})")
    try:
        parsed: wq.Query = parser(any_word=any_word).parse(text)
    except abbrev.AbbreviationError as exc:
        raise QueryError(str(exc)) from None
    except Exception:  # Whoosh raises assorted errors on odd syntax
        raise QueryError(
            "cannot parse query: check its quotes and brackets, and that + and - stand "
            "right before a word or phrase"
        ) from None
    return parsed


def parser(*, any_word: bool = False, abbreviations: bool = True) -> QueryParser:
    """Whoosh's parser configured for our language: every word required (or, with
    *any_word*, any), ``+``/``-`` signs, ``place:``/``date:`` terms, and (unless
    told not to) abbreviation expansion."""
    made = QueryParser(DEFAULT_FIELD, QUERY_SCHEMA, group=OrGroup if any_word else AndGroup)
    made.add_plugin(PlusMinusPlugin())
    made.add_plugin(FilterTermsPlugin())
    if abbreviations:
        made.add_plugin(AbbreviationPlugin())
    return made


#: For tagging only (taggers hold no state, so one parser serves every thread).
_TAGGER = parser(abbreviations=False)

#: The parser's own operator words.
OPERATORS = frozenset({"AND", "OR", "NOT"})
#: Characters that make a word query syntax rather than a plain word (an unclosed
#: quote, a bracket, a field colon, a fuzzy or boost mark).
SYNTAX_CHARS = frozenset('":~^[]{}')


@lru_cache(maxsize=1024)
def has_syntax(text: str) -> bool:
    """Whether *text* uses the query language beyond plain words: quotes, fields,
    groups, patterns, operators, ranges, ``+``/``-`` signs before a word.

    Read from the parser's own tags, so it agrees with what the parser sees; a
    ``-`` inside a word (``KT-XH``) is not a sign here.
    """
    if _plain(text):
        return False
    nodes = list(_TAGGER.tag(text))
    for i, node in enumerate(nodes):
        if isinstance(node, Whitespace):
            continue
        if isinstance(node, _SIGNS):
            if i == 0 or isinstance(nodes[i - 1], Whitespace):
                return True
            continue
        if type(node) is not WordNode:
            return True
        if node.text in OPERATORS or not SYNTAX_CHARS.isdisjoint(node.text):
            return True
    return False


def _plain(text: str) -> bool:
    """Letters, digits and spaces only, no word in capitals: nothing a tagger of the
    parser matches (its operators are capitals), so no need to tag (~0.1 ms)."""
    return all(c.isalnum() or c.isspace() for c in text) and not any(
        w.isupper() for w in text.split())
