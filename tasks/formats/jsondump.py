"""News-API dumps in JSON or JSON Lines, and sidecar metadata, mapped onto records without configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tasks.decode import decode_bytes
from tasks.formats.common import (
    Blob,
    Record,
    body_paragraphs,
    canonical_hash,
    clean_text,
    iso639_1,
    new_record,
    parse_datetime,
    quarantined,
)
from tasks.formats.feeds import is_json_feed, json_feed_records

FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name", "webTitle"),
    "body": ("body", "content", "text", "article", "articleBody", "full_text", "fullText", "bodyText",
             "story", "description", "lead_paragraph", "leadParagraph", "summary", "abstract", "snippet",
             "trailText", "standfirst"),
    "uri": ("url", "link", "uri", "webUrl", "web_url", "permalink"),
    "published_at": ("published", "publishedAt", "published_at", "date", "datePublished", "pubDate",
                     "created_at", "createdAt", "webPublicationDate", "pub_date", "publication_date", "time"),
    "byline": ("author", "authors", "byline", "creator", "dc:creator"),
    "source_hint": ("source", "publisher", "site", "source_name", "sourceName"),
    "language_hint": ("language", "lang", "locale"),
    "description": ("description", "summary", "abstract", "snippet", "lead", "standfirst", "trailText"),
    "canonical_url": ("canonical_url", "canonicalUrl", "canonical"),
    "caption": ("caption", "image_caption", "imageCaption"),
    "id": ("id", "_id", "guid", "uuid", "article_id", "articleId", "doc_id"),
}  # fmt: skip
"""Our column -> the field names news APIs use for it, tried in order (case-insensitively)."""

FIELD_ALIASES = {
    "url": "uri", "link": "uri", "author": "byline", "source": "source_hint", "language": "language_hint",
    "published": "published_at", "date": "published_at",
}  # fmt: skip
RECORD_CONTAINERS = ("articles", "items", "data", "results", "docs", "hits", "entries", "stories", "posts",
                     "news", "records", "response", "value")  # fmt: skip
_TEXT_KEYS = ("rendered", "main", "value", "text", "name", "title", "#text", "original")
FIELD_GROUPS = ("fields", "attributes", "properties")
"""Objects some APIs keep a record's fields in (the Guardian's ``fields``, JSON:API's ``attributes``): their
fields are read as the record's own, which win when both have one."""


def normalise_field_map(field_map: Mapping[str, str] | None) -> dict[str, str]:
    """``field_map`` with aliases resolved; unknown target columns are a configuration error."""
    result: dict[str, str] = {}
    for column, path in (field_map or {}).items():
        target = FIELD_ALIASES.get(column, column)
        if target not in FIELD_CANDIDATES:
            known = ", ".join(sorted(FIELD_CANDIDATES))
            raise ValueError(f"field_map names an unknown column {column!r}; known columns: {known}")
        result[target] = path
    return result


def _lookup(record: Mapping[str, Any], key: str) -> Any:
    if key in record:
        return record[key]
    lowered = key.lower()
    for name, value in record.items():
        if isinstance(name, str) and name.lower() == lowered:
            return value
    return None


def get_path(record: Any, path: str) -> Any:
    """``record``'s value at a dotted ``path`` (``fields.body``, ``authors.0.name``); a literal key wins."""
    if isinstance(record, Mapping) and path in record:
        return record[path]
    current = record
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = _lookup(current, part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def _pick(record: Mapping[str, Any], column: str, field_map: Mapping[str, str]) -> tuple[str | None, Any]:
    """The field that fills ``column``: the mapped one when the record has it, else the usual names."""
    mapped = field_map.get(column)
    names = (
        (mapped, *(name for name in FIELD_CANDIDATES[column] if name != mapped))
        if mapped
        else FIELD_CANDIDATES[column]
    )
    for name in names:
        value = get_path(record, name)
        if value not in (None, "", [], {}):
            return name, value
    return None, None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), str):
                return value[key]
    return None


def _names(value: Any) -> str | None:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return _names(_as_text(value) or value.get("firstname"))
    if isinstance(value, list):
        names = [name for name in (_names(item) for item in value) if name]
        return ", ".join(dict.fromkeys(names)) or None
    return None


def _type_name(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


def _paragraphs(value: Any) -> list[str] | None:
    """Body paragraphs from a string (HTML or text), a list of strings, or a ``{rendered: ...}`` object."""
    text = _as_text(value)
    if text is not None:
        return body_paragraphs(text)
    if isinstance(value, list) and all(isinstance(item, str | Mapping) for item in value):
        paragraphs: list[str] = []
        for item in value:
            paragraphs.extend(body_paragraphs(_as_text(item) or ""))
        return paragraphs
    return None


def _with_grouped_fields(record: Mapping[str, Any]) -> Mapping[str, Any]:
    grouped = [_lookup(record, name) for name in FIELD_GROUPS]
    groups = [group for group in grouped if isinstance(group, Mapping)]
    if not groups:
        return record
    merged: dict[str, Any] = {}
    for group in reversed(groups):
        merged.update(group)
    merged.update(record)
    return merged


def map_record(record: Mapping[str, Any], field_map: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    """Our columns from one JSON object, and a quarantine reason when it cannot be an article.

    A body is the first of the body fields the record has; a record with only a summary (``description``,
    ``summary``, ``abstract``, ``lead_paragraph`` ...) has that as its body.
    """
    record = _with_grouped_fields(record)
    values: dict[str, Any] = {}
    body_field, body = _pick(record, "body", field_map)
    _, description = _pick(record, "description", field_map)
    paragraphs = _paragraphs(body) if body is not None else None
    reason = None
    if body is None:
        reason = "has no body field"
    elif paragraphs is None:
        reason = f"has {_type_name(body)} in {body_field!r}, not text"
    elif not paragraphs:
        reason = f"has an empty {body_field!r}"
    values["paragraphs"] = paragraphs or None
    if description is not None and description is not body:
        values["description"] = clean_text(" ".join(_paragraphs(description) or []))
    title_field, title = _pick(record, "title", field_map)
    values["title"] = clean_text(_as_text(title))
    if reason is None and title is not None and _as_text(title) is None:
        reason = f"has {_type_name(title)} in {title_field!r}, not text"
    _, uri = _pick(record, "uri", field_map)
    values["uri"] = uri.strip() if isinstance(uri, str) and uri.strip() else None
    _, published = _pick(record, "published_at", field_map)
    values["published_at"] = parse_datetime(published)
    values["byline"] = _names(_pick(record, "byline", field_map)[1])
    values["source_hint"] = _names(_pick(record, "source_hint", field_map)[1])
    values["language_hint"] = iso639_1(_as_text(_pick(record, "language_hint", field_map)[1]))
    canonical = _as_text(_pick(record, "canonical_url", field_map)[1])
    values["canonical_url"] = canonical.strip() if canonical and canonical.startswith("http") else None
    values["caption"] = clean_text(_as_text(_pick(record, "caption", field_map)[1]))
    _, identifier = _pick(record, "id", field_map)
    values["id"] = str(identifier) if isinstance(identifier, str | int) and str(identifier).strip() else None
    return values, reason


def _decode(raw: bytes) -> str:
    text, _, _ = decode_bytes(raw)
    return text if text is not None else raw.decode("utf-8", errors="replace")


def load_json(raw: bytes) -> tuple[Any, list[tuple[int, Any | None]] | None, str | None]:
    """Parse ``raw`` as one JSON document, or else as JSON Lines.

    Returns ``(document, None, None)``, or ``(None, [(line_number, object or None when the line is broken)],
    None)``, or ``(None, None, reason)`` when it is neither.
    """
    text = _decode(raw)
    try:
        return json.loads(text), None, None
    except ValueError as error:
        whole_error = error
    lines: list[tuple[int, Any | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines.append((number, json.loads(line)))
        except ValueError:
            lines.append((number, None))
    if len(lines) > 1 and 2 * sum(isinstance(value, dict) for _, value in lines) >= len(lines):
        return None, lines, None
    return None, None, f"file is not valid JSON: {whole_error}"


def find_records(document: Any) -> list[Any] | None:
    """The list of article objects in a JSON document: the top-level array or the array under a known key."""
    if isinstance(document, list):
        return document
    if not isinstance(document, Mapping):
        return None
    for key in RECORD_CONTAINERS:
        value = _lookup(document, key)
        if isinstance(value, list):
            return [item.get("_source", item) if isinstance(item, Mapping) else item for item in value]
        if isinstance(value, Mapping) and value is not document:
            inner = find_records(value)
            if inner is not None:
                return inner
    return None


def _record_rows(
    blob: Blob, objects: list[tuple[str, int, Any]], field_map: Mapping[str, str]
) -> list[Record]:
    records = []
    for label, number, item in objects:
        fallback_key = f"{blob.uri}#{number}"
        if item is None:
            records.append(quarantined(blob, "json", f"{label} is not valid JSON", record_key=fallback_key))
            continue
        if not isinstance(item, Mapping):
            reason = f"{label} is {_type_name(item)}, not an object"
            records.append(quarantined(blob, "json", reason, record_key=fallback_key))
            continue
        values, problem = map_record(item, field_map)
        identifier = values.pop("id")
        values.update(
            uri=values["uri"] or blob.uri,
            record_key=values["uri"] or identifier or fallback_key,
            sha256=canonical_hash(item),
            published_at_source="json" if values["published_at"] else None,
            quarantine_reason=f"{label} {problem}" if problem else None,
        )
        records.append(new_record(blob, "json", **values))
    return records


def json_records(blob: Blob, field_map: Mapping[str, str]) -> list[Record]:
    """Records of a JSON or JSON Lines dump (a JSON Feed is handed to the feed parser)."""
    document, lines, reason = load_json(blob.raw)
    if reason is not None:
        return [quarantined(blob, "json", reason)]
    if lines is not None:
        return _record_rows(
            blob, [(f"JSON Lines line {n}", i, v) for i, (n, v) in enumerate(lines)], field_map
        )
    if is_json_feed(document):
        return json_feed_records(blob, document)
    items = find_records(document)
    if items is None:
        if isinstance(document, Mapping):
            return _record_rows(blob, [("JSON record", 0, document)], field_map)
        return [quarantined(blob, "json", f"JSON document is {_type_name(document)}, not articles")]
    if not items:
        return [quarantined(blob, "json", "JSON document holds an empty list of records")]
    return _record_rows(blob, [(f"JSON record #{i}", i, item) for i, item in enumerate(items)], field_map)


def sidecar_metadata(raw: bytes, field_map: Mapping[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """What a sidecar JSON says of its article (uri, published_at, byline, source, title), or why not.

    Returns ``(None, None)`` when the JSON is shaped like a dump of articles (an array, JSON Lines, a JSON
    Feed or an object holding a list of records) rather than one object describing one article.
    """
    document, lines, reason = load_json(raw)
    if reason is not None:
        return None, reason
    if lines is not None or not isinstance(document, Mapping) or is_json_feed(document):
        return None, None
    if find_records(document) is not None:
        return None, None
    values, _ = map_record(document, field_map)
    return {
        key: values[key] for key in ("uri", "published_at", "byline", "source_hint", "title", "language_hint")
    }, None
