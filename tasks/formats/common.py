"""Shared helpers for the raw-format parsers: record rows, hashing, dates, language codes, HTML to text."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import lxml.html
from feedparser.datetimes import _parse_date as feedparser_parse_date
from lxml import etree

from tasks.months import MONTH_ABBREVIATIONS
from tasks.schema import RECORDS_SCHEMA

Record = dict[str, Any]


@dataclass
class Blob:
    """One file's bytes as seen by the parsers: a landing file, a gzip's content, or a zip member."""

    file_uri: str
    uri: str
    name: str
    folder: str
    raw: bytes
    sha256: str
    depth: int = 0
    kind: str | None = None


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """Hash of a JSON value's canonical form: key order and whitespace do not matter."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return sha256_hex(text.encode("utf-8"))


def new_record(blob: Blob, raw_format: str | None, **values: Any) -> Record:
    """A record row for ``blob`` with every ``RECORDS_SCHEMA`` column, single-article defaults filled in."""
    record: Record = dict.fromkeys(RECORDS_SCHEMA)
    record.update(
        file_uri=blob.file_uri,
        uri=blob.uri,
        record_key=blob.uri,
        raw_format=raw_format,
        sha256=blob.sha256,
    )
    record.update(values)
    return record


def quarantined(blob: Blob, raw_format: str | None, reason: str, **values: Any) -> Record:
    """A record for ``blob`` that must not become an article, with the plain-words ``reason``."""
    return new_record(blob, raw_format, quarantine_reason=reason, **values)


_SPACE = re.compile(r"[\s\u00a0\u200b\ufeff]+")


def clean_text(value: str | None) -> str | None:
    """NFC, whitespace runs collapsed, stripped; None when nothing is left."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", _SPACE.sub(" ", value.replace("\x00", ""))).strip()
    return text or None


_ISO639_3 = {
    "eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it", "por": "pt",
    "nld": "nl", "dut": "nl", "rus": "ru", "ukr": "uk", "pol": "pl", "ces": "cs", "cze": "cs", "hun": "hu",
    "ell": "el", "gre": "el", "bul": "bg", "ron": "ro", "rum": "ro", "swe": "sv", "dan": "da", "nor": "no",
    "nob": "no", "fin": "fi", "tur": "tr", "ara": "ar", "heb": "he", "fas": "fa", "per": "fa", "hin": "hi",
    "ben": "bn", "urd": "ur", "zho": "zh", "chi": "zh", "jpn": "ja", "kor": "ko", "ind": "id", "vie": "vi",
    "tha": "th",
}  # fmt: skip
_LANGUAGE_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr", "spanish": "es",
    "español": "es", "italian": "it", "italiano": "it", "portuguese": "pt", "português": "pt",
    "dutch": "nl", "russian": "ru", "chinese": "zh", "japanese": "ja", "arabic": "ar",
}  # fmt: skip


def iso639_1(value: Any) -> str | None:
    """``en-US``, ``pt_BR``, ``eng``, ``English`` -> two-letter code; None when not recognisable."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if not text:
        return None
    if text in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text]
    head = re.split(r"[-_;,\s]", text, maxsplit=1)[0]
    if len(head) == 2 and head.isascii() and head.isalpha():
        return "he" if head == "iw" else head
    return _ISO639_3.get(head)


_WEEKDAY_PREFIX = re.compile(r"^\s*[^\W\d]+\.?,\s*")
_WORD = re.compile(r"[^\W\d_]+\.?")
_EPOCH_MS = 100_000_000_000


def to_naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without tzinfo; a naive ``moment`` is taken to be UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _plausible(moment: datetime | None) -> datetime | None:
    if moment is None or not 1900 <= moment.year <= 2200:
        return None
    return moment


def _english_months(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0).rstrip(".")
        return MONTH_ABBREVIATIONS.get(word.lower(), match.group(0))

    return _WORD.sub(swap, _WEEKDAY_PREFIX.sub("", text))


def parse_datetime(value: Any) -> datetime | None:
    """A timestamp from an ISO 8601 / RFC 822 / localised RFC 822 string or epoch number, as naive UTC."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _plausible(to_naive_utc(value))
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS else value
        try:
            return _plausible(datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None))
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit() and len(text) in (10, 13):
        return parse_datetime(int(text))
    try:
        return _plausible(to_naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00"))))
    except ValueError:
        pass
    for candidate in (text, _english_months(text)):
        try:
            return _plausible(to_naive_utc(parsedate_to_datetime(candidate)))
        except (TypeError, ValueError, IndexError):
            pass
        parsed = feedparser_parse_date(candidate)
        if parsed is not None:
            return _plausible(datetime(*parsed[:6]))
    return None


_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
    ]
)
_DROP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "button",
        "select",
        "template",
        "head",
        "figcaption",
    ]
)
_TAG_HINT = re.compile(
    r"<\s*(p|br|div|a|span|b|i|em|strong|ul|ol|li|h[1-6]|img|blockquote|table|figure)\b", re.I
)


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds common HTML tags (a body field or feed summary written in HTML)."""
    return bool(_TAG_HINT.search(text))


def html_to_paragraphs(markup: str) -> list[str]:
    """Text paragraphs of an HTML fragment (feed content, JSON body): one per block element or ``<br>``."""
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return text_to_paragraphs(markup)
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = clean_text("".join(current))
        if text:
            paragraphs.append(text)
        current.clear()

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in _DROP_TAGS or not tag:
            if element.tail:
                current.append(element.tail)
            return
        block = tag in _BLOCK_TAGS
        if block:
            flush()
        if element.text:
            current.append(element.text)
        for child in element:
            walk(child)
        if block:
            flush()
        if element.tail:
            current.append(element.tail)

    try:
        walk(root)
    except RecursionError:
        return text_to_paragraphs(root.text_content())
    flush()
    return paragraphs


def text_to_paragraphs(text: str) -> list[str]:
    """Plain text split into paragraphs on blank lines, or on line breaks when there are no blank lines."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    chunks = re.split(r"\n\s*\n", normalised) if re.search(r"\n\s*\n", normalised) else normalised.split("\n")
    return [p for p in (clean_text(chunk) for chunk in chunks) if p]


def fragment_caption(markup: str) -> str | None:
    """The first ``<figcaption>`` of an HTML fragment (feed content), which its paragraphs leave out."""
    if "figcaption" not in markup:
        return None
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return None
    for element in root.iter("figcaption"):
        caption = clean_text(" ".join(element.itertext()))
        if caption:
            return caption
    return None


def body_paragraphs(value: str) -> list[str]:
    """Paragraphs of a body that may be HTML or plain text."""
    return html_to_paragraphs(value) if looks_like_html(value) else text_to_paragraphs(value)
