"""Legacy Vietnamese 8-bit encodings: Windows-1258, VNI-Windows and TCVN3 (ABC).

Archives from before Unicode took over are full of these. They are all supersets of
ASCII that reuse the high bytes differently, so no byte pattern tells them apart: the
same file reads as plausible Latin letters in each. What does tell them apart is the
*result* — decoded with the right table, almost every word with a high byte is a
well-formed Vietnamese syllable (``Việt``); with a wrong one, almost none is
(``Vieät``, ``ViÖt``). :func:`detect` therefore decodes a sample with every candidate,
scores each by that share, and only names an encoding when it is both high and clearly
ahead of the runner-up; anything less is reported as not confidently detected, so a
file is never silently mis-converted.

Tables: ``data/tcvn3.txt`` is TCVN 5712:1993 (its full VN1 form, of which the ABC
fonts' TCVN3 is the lower-case subset) and ``data/vni.txt`` is the VNI-Windows font
layout (a base letter followed by a mark byte); Windows-1258 is Python's ``cp1258``.
Decoded text is NFC, so the combining marks of VNI and Windows-1258 become the
precomposed letters the rest of vnsearch expects.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from bogo.validation import is_valid_string

WINDOWS_1258 = "windows-1258"
VNI = "vni"
TCVN3 = "tcvn3"
#: The legacy encodings :func:`detect` chooses between, with the names users know.
LEGACY_ENCODINGS = {WINDOWS_1258: "Windows-1258", VNI: "VNI", TCVN3: "TCVN3 (ABC)"}

#: Only this many leading bytes are scored: enough words to decide, bounded time.
SAMPLE_BYTES = 64 * 1024
#: Fewer words with high bytes than this is too little evidence to name an encoding.
MIN_EVIDENCE = 5
#: The winner must make at least this share of those words Vietnamese syllables …
MIN_SCORE = 0.80
#: … and beat the runner-up by at least this much.
MIN_MARGIN = 0.30

_TABLE_FILES = {TCVN3: "tcvn3.txt", VNI: "vni.txt"}
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_BASE_VOWELS = "aăâeêioôơuưy"
_EDGE_PUNCTUATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


class EncodingError(ValueError):
    """Text that the chosen legacy encoding cannot represent."""


@dataclass(frozen=True)
class Detection:
    """What :func:`detect` concluded, with the evidence, so a refusal can say why."""

    encoding: str | None  # a key of LEGACY_ENCODINGS, or None when not confident
    scores: dict[str, float]  # share of high-byte words that read as Vietnamese
    evidence: int  # how many words with a high byte were scored

    def describe(self) -> str:
        """The scores in words, best first (``VNI 97%, TCVN3 (ABC) 4%, …``)."""
        ranked = sorted(self.scores.items(), key=lambda kv: -kv[1])
        return ", ".join(f"{LEGACY_ENCODINGS[name]} {score:.0%}" for name, score in ranked)


# --------------------------------------------------------------------------- tables


@cache
def _load_table(name: str) -> dict[int, str]:
    """``byte → text`` from one of the ``data/*.txt`` tables (``B5 00E0  # comment``)."""
    table: dict[int, str] = {}
    text = resources.files("search").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            byte, *points = line.split()
            table[int(byte, 16)] = "".join(chr(int(p, 16)) for p in points)
    return table


@cache
def _decoding_map(encoding: str) -> tuple[str, ...]:
    """All 256 bytes of *encoding* as text (U+FFFD where a byte means nothing)."""
    if encoding == WINDOWS_1258:
        return tuple(bytes([b]).decode("cp1258", errors="replace") for b in range(256))
    table = _load_table(_TABLE_FILES[encoding])
    fallback = "ascii" if encoding == TCVN3 else "cp1252"
    return tuple(table.get(b) or bytes([b]).decode(fallback, errors="replace") for b in range(256))


@cache
def _translation(encoding: str) -> dict[int, str]:
    """A ``str.translate`` table from Latin-1 code points (= bytes) to *encoding*'s text."""
    return {b: text for b, text in enumerate(_decoding_map(encoding)) if text != chr(b)}


def vietnamese_letters() -> list[str]:
    """Every precomposed Vietnamese letter outside ASCII, lower then upper case (134)."""
    lower = ["đ"]
    for base in _BASE_VOWELS:
        for mark in ("", *sorted(_TONE_MARKS)):
            letter = unicodedata.normalize("NFC", base + mark)
            if not letter.isascii():
                lower.append(letter)
    return lower + [c.upper() for c in lower]


@cache
def _encoding_map(encoding: str) -> dict[str, bytes]:
    """``letter → bytes`` for every Vietnamese letter: the shortest byte sequence that
    decodes to it (a capital's VNI mark is the capital form of the mark byte)."""
    chars = _decoding_map(encoding)
    out: dict[str, bytes] = {}
    # Single bytes from the table only: VNI writes ý as "yù" although Windows-1252,
    # which it falls back on for other bytes, has a ý.
    for b, text in _load_table(_TABLE_FILES[encoding]).items():
        out.setdefault(text, bytes([b]))
    marks = [b for b in range(128, 256) if unicodedata.combining(chars[b][0])]
    for letter in vietnamese_letters():
        if letter in out:
            continue
        base = unicodedata.normalize("NFD", letter)[0]
        bases = [base.encode()] + [out[c] for c in _partial_bases(letter) if c in out]
        # VNI has each mark twice: E0-FF after small letters, C0-DF after capitals.
        order = sorted(marks, key=lambda b: (b >= 0xE0) == letter.isupper())
        for head in bases:
            tail = next((b for b in order if _joins(chars, head, b, letter=letter)), None)
            if tail is not None:
                out[letter] = head + bytes([tail])
                break
    return out


def _partial_bases(letter: str) -> list[str]:
    """The letter without its tone mark, when that is another letter (``ợ`` → ``ơ``):
    VNI writes ơ, ư and đ as one byte and adds the tone after it."""
    nfd = unicodedata.normalize("NFD", letter)
    untoned = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
    return [untoned] if untoned != letter else []


def _joins(chars: tuple[str, ...], head: bytes, tail: int, *, letter: str) -> bool:
    text = "".join(chars[b] for b in head) + chars[tail]
    return unicodedata.normalize("NFC", text) == letter


# --------------------------------------------------------------------------- codecs


def decode(data: bytes, encoding: str) -> str:
    """Decode *data* from a legacy encoding to NFC text (never raises)."""
    text = data.decode("latin-1").translate(_translation(encoding))
    return unicodedata.normalize("NFC", text)


def encode(text: str, encoding: str, errors: str = "strict") -> bytes:
    """Encode *text* in a legacy encoding (used to make test archives and check tables).

    ``errors="replace"`` writes ``?`` for a character the encoding lacks (curly quotes
    in TCVN3, say); ``"strict"`` raises :class:`EncodingError` naming it.
    """
    if encoding == WINDOWS_1258:
        return _encode_1258(text, errors)
    letters = _encoding_map(encoding)
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch.isascii():
            out += ch.encode()
        elif ch in letters:
            out += letters[ch]
        else:
            out += _unencodable(ch, encoding, errors)
    return bytes(out)


def _encode_1258(text: str, errors: str) -> bytes:
    """Windows-1258 has some precomposed letters and writes the rest as base + tone."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        try:
            out += (base + tones).encode("cp1258") if tones else ch.encode("cp1258")
        except UnicodeEncodeError:
            out += _unencodable(ch, WINDOWS_1258, errors)
    return bytes(out)


def _unencodable(ch: str, encoding: str, errors: str) -> bytes:
    if errors == "replace":
        return b"?"
    raise EncodingError(f"{LEGACY_ENCODINGS[encoding]} has no {unicodedata.name(ch, repr(ch))}")


# --------------------------------------------------------------------------- detection


_ALPHABET = frozenset("abcdeghiklmnopqrstuvxyđăâêôơư")


@lru_cache(maxsize=1 << 16)
def is_vietnamese_syllable(word: str) -> bool:
    """True for one well-formed Vietnamese syllable (``việt``, ``nghiêng``, ``ổ``).

    Letters of the Vietnamese alphabet only, a vowel, at most one tone mark, and a
    spelling ``bogo`` accepts (onset, nucleus and coda that go together).
    """
    lower = word.lower()
    nfd = unicodedata.normalize("NFD", lower)
    if sum(c in _TONE_MARKS for c in nfd) > 1:
        return False
    bare = "".join(c for c in nfd if c not in _TONE_MARKS)
    bare = unicodedata.normalize("NFC", bare)
    if not bare or not all(c in _ALPHABET for c in bare):
        return False
    if not any(c in _BASE_VOWELS for c in bare):
        return False
    try:
        return bool(is_valid_string(unicodedata.normalize("NFC", lower)))
    except Exception:  # bogo's parser is not written for arbitrary strings
        return False


def _high_byte_words(sample: bytes) -> list[bytes]:
    """The whitespace-separated words of *sample* that contain a byte ≥ 0x80."""
    return [w for w in sample.split() if not w.isascii()]


def score(words: list[bytes], encoding: str) -> float:
    """Share of *words* that decode to a Vietnamese syllable in *encoding*."""
    if not words:
        return 0.0
    good = 0
    for raw in words:
        word = _EDGE_PUNCTUATION.sub("", decode(raw, encoding))
        good += bool(word) and is_vietnamese_syllable(word)
    return good / len(words)


def detect(data: bytes) -> Detection:
    """Which legacy Vietnamese encoding *data* is in, if that is clear (see the module doc)."""
    sample = data[:SAMPLE_BYTES]
    if len(data) > SAMPLE_BYTES:  # do not judge a word cut in half at the sample's end
        sample = sample.rsplit(None, 1)[0] if sample.strip() else sample
    words = _high_byte_words(sample)
    scores = {name: score(words, name) for name in LEGACY_ENCODINGS}
    ranked = sorted(scores.values(), reverse=True)
    confident = (
        len(words) >= MIN_EVIDENCE
        and ranked[0] >= MIN_SCORE
        and ranked[0] - ranked[1] >= MIN_MARGIN
    )
    best = max(scores, key=scores.__getitem__) if confident else None
    return Detection(encoding=best, scores=scores, evidence=len(words))
