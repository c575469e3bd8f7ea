"""News feeds, one record per entry: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1/1.1."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
from lxml import etree

from tasks.formats.common import (
    Blob,
    Record,
    body_paragraphs,
    canonical_hash,
    clean_text,
    fragment_caption,
    html_to_paragraphs,
    iso639_1,
    new_record,
    parse_datetime,
    quarantined,
)

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")


def declares_entities(raw: bytes) -> bool:
    """Whether an XML document defines its own entities: the shape of billion-laughs and XXE documents."""
    head = raw[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    return bool(_ENTITY_DECLARATION.search(head))


def feed_identity(*candidates: Any) -> str | None:
    """A feed's identity that survives re-polls from another URL: its site link, id or title, normalised.

    The scheme, a trailing slash and ``utm_*`` tracking parameters are dropped, and the result lower-cased.
    """
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            parts = urlsplit(candidate.strip())
            query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith("utm_")])
            text = urlunsplit(parts._replace(query=query)) if parts.scheme else candidate.strip()
            return _SCHEME.sub("", text).rstrip("/?").lower()
    return None


_MEDIA = "{http://search.yahoo.com/mrss/}"


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


@dataclass(frozen=True)
class MediaNote:
    """What Media RSS says of an entry's photo, and the entry's own description beside it.

    Attributes:
        caption: the photo's caption with its credit.
        described: the ``media:description`` text as written.
        description: the entry's own ``description`` (RSS) or ``summary`` (Atom) as written, or None.
    """

    caption: str
    described: str
    description: str | None


def media_notes(raw: bytes) -> dict[str, MediaNote]:
    """Each entry's :class:`MediaNote`, keyed by the entry's id and by its link.

    feedparser files ``media:description`` under the entry's summary (in place of the entry's own
    description, or drops it), so the XML is read once more with lxml (no DTD, no entities, no network) for
    ``media:description``, ``media:credit`` and the entry's own description.
    """
    if _MEDIA.encode()[1:-1] not in raw:
        return {}
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        return {}
    if root is None:
        return {}
    notes: dict[str, MediaNote] = {}
    for item in root.iter():
        if _local(item.tag) not in ("item", "entry"):
            continue
        described = next(item.iter(f"{_MEDIA}description"), None)
        if described is None or not (described.text or "").strip():
            continue
        text = (
            " ".join(html_to_paragraphs(described.text))
            if described.get("type") == "html"
            else described.text
        )
        caption = clean_text(text)
        credit = clean_text(next((c.text for c in item.iter(f"{_MEDIA}credit") if c.text), None))
        if caption and credit and credit not in caption:
            caption = f"{caption} {credit}"
        if not caption:
            continue
        own = next(
            (
                child.text
                for child in item
                if _local(child.tag) in ("description", "summary")
                and not str(child.tag).startswith(_MEDIA)
                and (child.text or "").strip()
            ),
            None,
        )
        note = MediaNote(caption=caption, described=described.text, description=own)
        for child in item:
            name = _local(child.tag)
            key = (child.text or "").strip() if name in ("guid", "id", "link") else ""
            if name == "link" and not key:
                key = (child.get("href") or "").strip()
            if key:
                notes.setdefault(key, note)
    return notes


def _is_photo_text(value: str, note: MediaNote | None) -> bool:
    return note is not None and clean_text(value) == clean_text(note.described)


def _entry_summary(entry: Any, note: MediaNote | None) -> str | None:
    """The entry's summary, its own description where feedparser put the photo's ``media:description``."""
    summary = entry.get("summary") if isinstance(entry.get("summary"), str) else None
    if summary is not None and note is not None and note.description and _is_photo_text(summary, note):
        return note.description
    return summary


def parse_feed(raw: bytes) -> Any:
    """feedparser's result for a feed's bytes (so the XML declaration or BOM decides the encoding)."""
    return feedparser.parse(raw, sanitize_html=True, resolve_relative_uris=False)


def _struct_time(value: Any) -> datetime | None:
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6])
        except ValueError:
            return None
    return None


def _entry_published(entry: Any) -> datetime | None:
    for key in ("published", "updated", "created"):
        moment = _struct_time(dict.get(entry, f"{key}_parsed")) or parse_datetime(dict.get(entry, key))
        if moment is not None:
            return moment
    return None


def _detail_text(detail: Any, fallback: Any) -> str | None:
    value = detail.get("value") if isinstance(detail, dict) else None
    value = value if isinstance(value, str) else fallback if isinstance(fallback, str) else None
    if value is None:
        return None
    if isinstance(detail, dict) and "html" in str(detail.get("type", "")):
        return clean_text(" ".join(html_to_paragraphs(value)))
    return clean_text(value)


def _entry_body(entry: Any, summary: str | None, note: MediaNote | None) -> tuple[str | None, list[str]]:
    """The raw content (for hashing) and its paragraphs: the longest ``content``, else the summary.

    A content that is the photo's ``media:description`` (where feedparser may file it) is no content.
    """
    contents = [
        c
        for c in entry.get("content") or []
        if isinstance(c.get("value"), str) and c["value"].strip() and not _is_photo_text(c["value"], note)
    ]
    raw = max((c["value"] for c in contents), key=len) if contents else summary
    if not isinstance(raw, str) or not raw.strip():
        return None, []
    return raw, body_paragraphs(raw)


def _authors(entry: Any) -> str | None:
    people = entry.get("authors") or []
    names = [a["name"] for a in people if isinstance(a, dict) and isinstance(a.get("name"), str)]
    if not names and isinstance(entry.get("author"), str):
        names = [entry["author"]]
    names = [n.strip() for n in names if n.strip() and not _SCHEME.match(n.strip())]
    return clean_text(", ".join(dict.fromkeys(names))) if names else None


def _record_key(identity: str, entry_id: str | None, link: str | None, content_hash: str) -> str:
    local = entry_id or link or f"sha256:{content_hash[:32]}"
    return f"feed:{identity}#{local}"


def rss_atom_records(blob: Blob) -> list[Record]:
    """Entries of an RSS or Atom feed; feedparser gets the bytes, so the XML's declared encoding holds."""
    if declares_entities(blob.raw):
        return [
            quarantined(
                blob, "feed", "XML declares its own entities; refused as a possible entity-expansion bomb"
            )
        ]
    parsed = parse_feed(blob.raw)
    feed = parsed.get("feed", {})
    if not parsed.entries:
        if parsed.get("bozo") and not feed:
            return [quarantined(blob, "feed", f"feed could not be parsed: {parsed.get('bozo_exception')}")]
        return [quarantined(blob, "feed", "feed has no entries")]
    self_link = next((link.get("href") for link in feed.get("links", []) if link.get("rel") == "self"), None)
    identity = feed_identity(feed.get("link"), feed.get("id"), self_link, feed.get("title")) or blob.uri
    language = iso639_1(feed.get("language"))
    publisher = clean_text(feed.get("title"))
    notes = media_notes(blob.raw)
    records = []
    for entry in parsed.entries:
        link = entry.get("link") if isinstance(entry.get("link"), str) else None
        entry_id = entry.get("id") if isinstance(entry.get("id"), str) and entry.get("id").strip() else None
        note = notes.get(entry_id or "") or notes.get(link or "")
        summary = _entry_summary(entry, note)
        raw_body, paragraphs = _entry_body(entry, summary, note)
        title = _detail_text(entry.get("title_detail"), entry.get("title"))
        published = _entry_published(entry)
        content_hash = canonical_hash(
            {"id": entry_id, "link": link, "title": title, "published": entry.get("published"),
             "updated": dict.get(entry, "updated"), "author": entry.get("author"), "body": raw_body}
        )  # fmt: skip
        source = entry.get("source") or {}
        values: dict[str, Any] = {
            "uri": link or blob.uri,
            "record_key": _record_key(identity, entry_id, link, content_hash),
            "sha256": content_hash,
            "title": title,
            "paragraphs": paragraphs or None,
            "byline": _authors(entry),
            "caption": (note.caption if note else None) or (fragment_caption(raw_body) if raw_body else None),
            "published_at": published,
            "published_at_source": "feed" if published else None,
            "description": clean_text(" ".join(body_paragraphs(summary)))
            if summary and summary != raw_body
            else None,
            "language_hint": iso639_1(entry.get("language")) or language,
            "source_hint": clean_text(source.get("title") if isinstance(source, dict) else None) or publisher,
        }
        if not paragraphs:
            values["quarantine_reason"] = "feed entry has no content"
        records.append(new_record(blob, "feed", **values))
    return records


def _json_feed_author(item: dict[str, Any], top: dict[str, Any]) -> str | None:
    people = item.get("authors") or ([item["author"]] if item.get("author") else None) or top.get("authors")
    if not people and top.get("author"):
        people = [top["author"]]
    names = [p.get("name") if isinstance(p, dict) else p for p in people or []]
    return clean_text(", ".join(n for n in names if isinstance(n, str) and n.strip())) or None


def json_feed_records(blob: Blob, document: dict[str, Any]) -> list[Record]:
    """Items of a JSON Feed (https://jsonfeed.org/version/1 or 1.1)."""
    items = document.get("items")
    if not isinstance(items, list) or not items:
        return [quarantined(blob, "feed", "feed has no entries")]
    identity = (
        feed_identity(document.get("home_page_url"), document.get("feed_url"), document.get("title"))
        or blob.uri
    )
    language = iso639_1(document.get("language"))
    publisher = clean_text(document.get("title")) if isinstance(document.get("title"), str) else None
    records = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            records.append(
                quarantined(
                    blob, "feed", f"feed item #{number} is not an object", record_key=f"{blob.uri}#{number}"
                )
            )
            continue
        link = next((item[k] for k in ("url", "external_url") if isinstance(item.get(k), str)), None)
        entry_id = (
            str(item["id"]) if isinstance(item.get("id"), str | int) and str(item["id"]).strip() else None
        )
        html, text = item.get("content_html"), item.get("content_text")
        summary = item.get("summary") if isinstance(item.get("summary"), str) else None
        if isinstance(html, str) and html.strip():
            paragraphs = html_to_paragraphs(html)
        elif isinstance(text, str) and text.strip():
            paragraphs = body_paragraphs(text)
        else:
            paragraphs, summary = (body_paragraphs(summary) if summary else []), None
        published = parse_datetime(item.get("date_published")) or parse_datetime(item.get("date_modified"))
        content_hash = canonical_hash(item)
        values: dict[str, Any] = {
            "uri": link or blob.uri,
            "record_key": _record_key(identity, entry_id, link, content_hash),
            "sha256": content_hash,
            "title": clean_text(item["title"]) if isinstance(item.get("title"), str) else None,
            "paragraphs": paragraphs or None,
            "byline": _json_feed_author(item, document),
            "published_at": published,
            "published_at_source": "feed" if published else None,
            "description": clean_text(summary),
            "language_hint": iso639_1(item.get("language")) or language,
            "source_hint": publisher,
        }
        if not paragraphs:
            values["quarantine_reason"] = "feed entry has no content"
        records.append(new_record(blob, "feed", **values))
    return records


def is_json_feed(document: Any) -> bool:
    """Whether a parsed JSON document declares itself a JSON Feed (version 1 or 1.x)."""
    return isinstance(document, dict) and bool(JSON_FEED_VERSION.match(str(document.get("version", ""))))
