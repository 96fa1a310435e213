"""Metadata from raw article text: title, date, author, source, places, people, lede.

Real archives are page dumps. Besides the article they hold section headers printed
twice (``TIN TỨC HOẠT ĐỘNG CỦA QUẬN ỦY TIN TỨC HOẠT ĐỘNG CỦA QUẬN ỦY``), share
buttons (``Chia sẻ Zalo``), view counters, image captions printed twice, and the
byline either under the title or alone on the last line. :func:`extract` reads
the structure out of that, and returns the cleaned body that gets indexed; the
original file is never modified.

Every step is a small pure function over lines or text, so each can be tested
with a table of real-looking cases. Page-chrome patterns are data
(:data:`BOILERPLATE`), not scattered conditions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from search import dates, places
from search.normalize import folded_words, nfc

#: Whole lines that are page chrome, not article text (matched case-insensitively).
BOILERPLATE = [
    r"chia sẻ(?:\s+\w+)?",
    r"(?:chia sẻ|share)\s*(?:facebook|zalo|twitter)?",
    r"bản đồ số",
    r"lượt xem:?\s*\d+",
    r"in bài(?: viết)?",
    r"bình luận(?:\s*\(\d+\))?",
    r"gửi bài(?: viết)?",
    r"lưu bài(?: viết)?",
    r"bài viết liên quan",
    r"tin liên quan",
    r"xem thêm",
    r"quay lại",
    r"đầu trang",
    r"theo dõi (?:chúng tôi|trên google news)",
    r"tags?:.*",
    r"từ khóa:.*",
]
_BOILERPLATE = re.compile(r"(?:" + "|".join(BOILERPLATE) + r")[\s.:]*", re.I)
# A masthead/source tag opening the lead: "Kinhtedothi - ", "TĐKT - ", "(NTL) ", "(NLĐ)- ".
_PAREN_SOURCE = re.compile(r"^\(([^()\d]{2,20})\)\s*[-–—:]?\s*")
_DASH_SOURCE = re.compile(r"^([^\W\d_][\w.]{1,19})\s*[-–—]\s+")
_SENTENCE_END = re.compile(r"[.!?…]")
#: Separators that are not whitespace to ``str.split`` (zero-width spaces, joiners, BOM).
_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
_ZERO_WIDTH_AS_SPACE = str.maketrans(dict.fromkeys(_ZERO_WIDTH, " "))
MAX_TITLE = 200
#: A header line longer than this is prose, not a date line.
MAX_DATE_LINE = 80
MAX_SUMMARY = 400
#: A byline: "Theo" perhaps, the name, perhaps "(tổng hợp)" or "(TH)".
_BYLINE = re.compile(r"^(?:Theo\s+)?(.+?)(?:\s*\((?:tổng hợp|TH)\))?$")
#: Words a byline line holds at most: a name of up to five (:func:`looks_like_name`),
#: "Theo" before it, "(tổng hợp)" after it.
MAX_BYLINE_WORDS = 8
#: Distinct word runs after titles whose place reading is remembered.
PLACE_CHUNKS_REMEMBERED = 4096

#: Common Vietnamese family names: a person's name must start with one.
SURNAMES = frozenset(
    """Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Tạ Sử Đào
    Đinh Lâm Mai Trịnh Trương Lương Hà Cao Chu Đoàn Tô Văn Kiều Thái La Quách Lưu Tăng
    Triệu Khúc Đàm Nghiêm Mạc Vương Lại Tôn Thân Phùng Nông Hứa Giang Tống Lục Kim Ông
    Doãn Âu Châu Diệp Đồng Hầu Khổng Lò Mẫn Quan Thạch Tiêu Từ Vi Viên Kha Lã Lữ Cù""".split()
)
#: Titles after which a person's name follows (longest first when matching).
PERSON_TITLES = [
    "ủy viên trung ương đảng",
    "ủy viên ban thường vụ",
    "phó bí thư thường trực",
    "phó bí thư",
    "bí thư",
    "phó chủ tịch",
    "chủ tịch",
    "đồng chí",
    "bộ trưởng",
    "thứ trưởng",
    "giám đốc",
    "trưởng ban",
    "thượng tướng",
    "trung tướng",
    "thiếu tướng",
    "đại tá",
]
_PERSON_WORDS = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD_GAP = r"[\s_]+"


def _title_alternatives(titles: list[list[str | None]]) -> str:
    """A regex for any of *titles* (each its letters, ``None`` for a word gap) as a
    tree of their shared beginnings, the longer before the shorter.

    The search tries the alternatives at each letter that may start one: as a tree
    it tries one branch per letter rather than every title, for the same match
    (where one title goes on from another, the longer is tried first, as when they
    were listed longest first).
    """
    branches: dict[str | None, list[list[str | None]]] = {}
    for title in titles:
        if title:
            branches.setdefault(title[0], []).append(title[1:])
    alternatives = [(_WORD_GAP if head is None else re.escape(head)) + _title_alternatives(rest)
                    for head, rest in branches.items()]
    if not alternatives:
        return ""
    tree = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
    return f"(?:{tree})?" if not all(titles) else tree


# A title as whole words (the longer of two first), its words apart by anything
# _PERSON_WORDS skips (spaces, ``_``): where a word list would match it. Whether a
# letter precedes it is checked apart (a lookbehind here made the search 2x slower).
_TITLE_WORDS = _title_alternatives(
    [[part for word in title.split() for part in (None, *word)][1:] for title in PERSON_TITLES])
_TITLE_RUN = re.compile(rf"(?:{_TITLE_WORDS})(?![^\W\d_])")
_TITLE_RUN_ANY_CASE = re.compile(rf"(?<![^\W\d_])(?:{_TITLE_WORDS})(?![^\W\d_])",
                                 re.IGNORECASE)
#: Characters after a title read for the name (titles, places and a name fit well
#: within it; a longer reading takes the rest of the text).
_NAME_WINDOW = 300

#: Words that may stand between a title and the name (organisations, "quận", places).
_TITLE_FILLER = frozenset(
    "quận huyện thành phố tp thị xã ủy ubnd hđnd ub mttq thường trực vụ ban đảng bộ "
    "tỉnh thành trung ương cấp".split()
)


@dataclass
class Article:
    """What the extractor finds in one article."""

    title: str
    body: str
    date: datetime | None = None
    has_time: bool = False
    author: str | None = None
    source: str | None = None
    places: list[str] = field(default_factory=list)
    provinces_2025: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    summary: str = ""
    word_count: int = 0


# --------------------------------------------------------------------------- lines


def clean_line(line: str) -> str:
    """Collapse NBSP/zero-width/tab runs to single spaces and trim.

    Most lines are clean already, or but for a space at an end (two lines in
    five of VNTC end with one), which one look tells: every separator other than
    the space is unprintable (``\\s``, NBSP, zero-width), so a printable line
    without a double space only needs its ends trimmed (``str.strip`` returns a
    line with none as it is). A regex substitution on every line was a tenth of
    extraction.
    """
    if line.isprintable() and "  " not in line:
        return line.strip(" ")
    if any(z in line for z in _ZERO_WIDTH):
        line = line.translate(_ZERO_WIDTH_AS_SPACE)
    return " ".join(line.split())  # str.split splits on what the regex \s matches


def is_boilerplate(line: str) -> bool:
    """True for page chrome: share buttons, counters, map links …"""
    return bool(_BOILERPLATE.fullmatch(line))


def clean_lines(text: str) -> list[str]:
    """Non-empty, non-chrome lines of *text*, with a line repeated right after itself
    (captions printed twice) kept once."""
    out: list[str] = []
    for raw in nfc(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = clean_line(raw)
        if not line or is_boilerplate(line) or (out and out[-1] == line):
            continue
        out.append(line)
    return out


def is_doubled_header(line: str) -> bool:
    """A phrase printed twice on one line: ``TIN TỨC X TIN TỨC X``."""
    words = line.split()
    half = len(words) // 2
    return len(words) >= 4 and len(words) % 2 == 0 and words[:half] == words[half:]


def is_section_header(line: str) -> bool:
    """Capitalised section headers that precede the real title."""
    if is_doubled_header(line):
        return True
    if len(line.split()) > 12:  # before looking at each letter: a run-on line is long
        return False
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


# --------------------------------------------------------------------------- fields


def find_title(lines: list[str]) -> tuple[str, int]:
    """The title and the index of its line (-1 when there is none).

    Skips section headers and date lines. A first line that runs straight into the
    body (VNTC's Người Lao Động articles: ``Title (NLĐ)- Body…``) is cut at the
    source tag, else at a sentence end or word boundary near :data:`MAX_TITLE`.
    """
    for i, line in enumerate(lines[:6]):
        if is_section_header(line) and i + 1 < len(lines):
            continue
        if len(line) < 60 and dates.date_line(line):  # length first: a run-on
            continue  # first line is the whole article, and its dates are no title's
        return shorten_title(line), i
    return (shorten_title(lines[0]), 0) if lines else ("", -1)


def shorten_title(line: str) -> str:
    m = re.search(r"\s*\((?:NLĐ|TT|TN|VnExpress|Dân trí)\)\s*[-–—]?", line)
    if m and m.start() > 10:
        line = line[: m.start()].strip()
    if len(line) <= MAX_TITLE:
        return line
    end = _SENTENCE_END.search(line, 40, MAX_TITLE)
    if end:
        return line[: end.start() + 1].strip()
    cut = line.rfind(" ", 0, MAX_TITLE)
    return line[: cut if cut > 40 else MAX_TITLE].strip() + "…"


def looks_like_name(line: str) -> bool:
    """2–5 capitalised words, no digits or sentence punctuation: a byline shape."""
    words = line.split()
    if not 2 <= len(words) <= 5 or len(line) > 40:
        return False
    if any(not w.isalpha() or not w[0].isupper() for w in words):
        return False
    if line.isupper() or places.canonical_places(line) == [line]:
        return False
    return True


def find_author(lines: list[str], title_index: int) -> tuple[str | None, int]:
    """The byline and its line index: right under the title, or the last line.

    A line of more words than a byline holds is not read (matching the byline
    pattern's lazy name against a paragraph was most of this function's time).
    """
    candidates = list(range(title_index + 1, min(title_index + 3, len(lines))))
    if lines:
        candidates.append(len(lines) - 1)
    for i in candidates:
        if i <= title_index or len(lines[i].split(maxsplit=MAX_BYLINE_WORDS)) > MAX_BYLINE_WORDS:
            continue
        m = _BYLINE.match(lines[i])
        name = m.group(1).strip() if m else lines[i]
        if looks_like_name(name):
            return name, i
    return None, -1


def find_source(lead: str) -> str | None:
    """The masthead tag that opens the lead (``Kinhtedothi - `` → ``Kinhtedothi``)."""
    m = _PAREN_SOURCE.match(lead)
    if m:
        return m.group(1).strip()
    m = _DASH_SOURCE.match(lead)
    if m:
        tag = m.group(1).rstrip(".")
        # A dateline place ("Hà Nội - ") is not a source; neither is an ordinary word.
        if tag[0].isupper() and not places.canonical_places(tag):
            return tag
    return None


def strip_source(lead: str) -> str:
    """The lead without its opening source tag."""
    m = _PAREN_SOURCE.match(lead) or _DASH_SOURCE.match(lead)
    return lead[m.end() :] if m and find_source(lead) else lead


def find_date(lines: list[str], title_index: int, lead: str, *,
              text: str) -> tuple[datetime | None, bool, int]:
    """``(date, has_time, line index)`` from the header area, or ``(None, False, -1)``.

    Looks at the lines around the title, then the start of the lead (a full date, or
    a partial ``Ngày 12/1`` completed from other dates in the text). Historical dates
    further into the lead are ignored.
    """
    for i in range(max(0, title_index - 1), min(len(lines), title_index + 4)):
        if i == title_index or len(lines[i]) > MAX_DATE_LINE:
            continue
        found = dates.date_line(lines[i])
        if found:
            return found[0], found[1], i
    head = lead[:60]
    found = dates.full_date(head)
    if found:
        return found[0], found[1], -1
    partial = dates.partial_date(lead[:120], text)
    if partial:
        return partial, False, -1
    return None, False, -1


def find_people(text: str) -> list[str]:
    """Names that follow titles (``Bí thư Quận ủy Vũ Hà`` → ``Vũ Hà``), deduplicated.

    One regex pass finds the titles; only the words after each are split and read.
    Most of a body holds no title, and splitting every word of it was a fifth of
    indexing's extraction time.
    """
    found: list[str] = []
    for end in _title_ends(text):
        name = _name_in(text, end)
        if name and name not in found:
            found.append(name)
    return found


def _title_ends(text: str) -> Iterator[int]:
    """Where each title in *text* ends (titles as whole words, leftmost first)."""
    lower = text.lower()
    if len(lower) != len(text):  # offsets would not be the text's: case-blind, slower
        yield from (m.end() for m in _TITLE_RUN_ANY_CASE.finditer(text))
        return
    pos = 0
    while found := _TITLE_RUN.search(lower, pos):
        start = found.start()
        if start and _LETTER.match(lower, start - 1):  # inside a word: look on
            pos = start + 1
            continue
        yield found.end()
        pos = found.end()


def _name_in(text: str, start: int) -> str | None:
    """The name read after a title ending at *start*: from a window of the text,
    or from the whole rest when the window ends before the reading does."""
    window = text[start : start + _NAME_WINDOW]
    words = _PERSON_WORDS.findall(window)
    lower = [w.lower() for w in words]
    if len(window) == _NAME_WINDOW and _reads_to_end(words, lower):
        words = _PERSON_WORDS.findall(text[start:])
        lower = [w.lower() for w in words]
    return _name_after(words, lower, 0)


def _reads_to_end(words: list[str], lower: list[str]) -> bool:
    """Whether reading a name may run past the last of *words* (fillers or capitalised
    words up to the end), so that a cut window could change the name."""
    j = 0
    while j < len(words) and (lower[j] in _TITLE_FILLER or words[j][:1].isupper()):
        j += 1
    return j >= len(words) - 1


def _name_after(words: list[str], lower: list[str], j: int) -> str | None:
    """Skip organisation words and places after a title, then read a personal name."""
    while j < len(words):
        if lower[j] in _TITLE_FILLER:
            j += 1
            continue
        place = _place_length(words, j)
        if place:
            j += place
            continue
        break
    parts: list[str] = []
    while j < len(words) and len(parts) < 4 and words[j][:1].isupper() and words[j].isalpha():
        parts.append(words[j])
        j += 1
    if not 2 <= len(parts) <= 4 or parts[0] not in SURNAMES:
        return None
    return " ".join(parts)


def _place_length(words: list[str], j: int) -> int:
    """How many words at *j* spell a known place name (0 if none)."""
    for n in (4, 3, 2, 1):
        chunk = " ".join(words[j : j + n])
        if chunk[:1].isupper() and len(chunk.split()) == n and _names_one_place(chunk):
            return n
    return 0


@lru_cache(maxsize=PLACE_CHUNKS_REMEMBERED)
def _names_one_place(chunk: str) -> bool:
    """True when *chunk* is exactly one place's spelling (remembered: the words
    after titles repeat from article to article, and each look folds the chunk)."""
    return bool(places.canonical_places(chunk)
                and len(places.mentions(chunk, require_capitals=False)) == 1
                and _spells_whole(chunk))


def _spells_whole(chunk: str) -> bool:
    """True when *chunk* is exactly a place spelling (no extra words)."""
    gaz = places.gazetteer()
    folded = tuple(folded_words(chunk)[0])
    return any(folded == spelling for spelling, _, _ in gaz.spellings.get(folded[0], ()))


def summarise(paragraphs: list[str]) -> str:
    """The lede: the first real paragraph, without its source tag, at most ~400 chars."""
    for para in paragraphs:
        text = strip_source(para).strip()
        if len(text) >= 40 and not looks_like_name(text):
            if len(text) <= MAX_SUMMARY:
                return text
            cut = text.rfind(" ", 0, MAX_SUMMARY)
            return text[: cut if cut > 0 else MAX_SUMMARY] + "…"
    return paragraphs[0] if paragraphs else ""


def word_count(text: str) -> int:
    """Words in *text* (a glued ``NamTừ`` counts as its two words)."""
    return len(folded_words(text)[0])


# --------------------------------------------------------------------------- article


def extract(text: str, fields: dict[str, object] | None = None) -> Article:
    """Read an article's metadata and cleaned body out of its raw text.

    *fields* are values a JSON record already carries (``title``, ``date``,
    ``author``, ``source``); non-empty ones win over what the text suggests.
    """
    fields = fields or {}
    text = nfc(text or "")
    lines = clean_lines(text)
    title, t_index = _title_of(lines, _given(fields, "title"))
    author, a_index = find_author(lines, t_index)
    lead_index = next(
        (i for i in range(t_index + 1, len(lines)) if i != a_index and len(lines[i]) > 60),
        t_index + 1,
    )
    lead = lines[lead_index] if 0 <= lead_index < len(lines) else ""
    date, has_time, d_index = find_date(lines, t_index, lead, text=text)
    skip = {t_index, a_index, d_index} | {i for i in range(t_index) if is_section_header(lines[i])}
    paragraphs = [line for i, line in enumerate(lines) if i not in skip]
    if t_index >= 0 and lines[t_index] != title:  # title cut from a run-on first line
        rest = lines[t_index][len(title) :].strip(" …")
        paragraphs.insert(0, rest)
    body = "\n\n".join(paragraphs)
    source = find_source(lead)
    if source is None and t_index >= 0:  # "Title (NLĐ)- body" run together
        source = find_source(lines[t_index][len(title) :].strip())

    title = _given(fields, "title") or title
    author = _given(fields, "author") or author
    source = _given(fields, "source") or source
    if _given(fields, "date"):
        parsed = dates.parse_date(str(fields["date"]))
        if parsed:
            date, has_time = parsed
    place_names, provinces = places.tag(title, body)
    return Article(
        title=title,
        body=body,
        date=date,
        has_time=has_time,
        author=author,
        source=source,
        places=place_names,
        provinces_2025=provinces,
        people=find_people(body),
        summary=summarise(paragraphs),
        word_count=word_count(body),
    )


def _title_of(lines: list[str], given: str | None) -> tuple[str, int]:
    """The title and its line index (-1 when no line holds it).

    A record that carries its own title (JSON ``title``) has only body in its text,
    unless the text repeats the title as its first line: guessing a title from the
    text there would drop the body's first paragraph.
    """
    if given is None:
        return find_title(lines)
    return given, 0 if lines and lines[0] == given else -1


def _given(fields: dict[str, object], key: str) -> str | None:
    value = fields.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None
