"""Raw landing files to article records, whatever the format: text, HTML, feeds, JSON dumps and archives.

The one entry point is :func:`explode_records`. Formats are detected from the file name *and* the bytes
(landing folders are messy: a ``.txt`` holding HTML, a feed without ``.xml``, JSON without ``.json``).

Sidecar metadata: ``story.json`` next to ``story.txt`` (same folder, same stem) describes that article instead
of being a JSON dump of its own. Pairing happens within one call, so it relies on the discovery step handing a
folder's files to the same batch (it lists them in sorted order, and a batch holds thousands of files); a
sidecar whose article lands in another batch is read as a one-record JSON dump.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlparse

import polars as pl

from tasks.decode import decode_bytes
from tasks.formats.archives import MB, ArchiveLimits, decompress, inner_name, untar, unzip
from tasks.formats.common import Blob, Record, new_record, quarantined, sha256_hex
from tasks.formats.feeds import rss_atom_records
from tasks.formats.html import html_records
from tasks.formats.jsondump import json_records, normalise_field_map, sidecar_metadata
from tasks.formats.sniff import binary_description, sniff, suffix
from tasks.parse_text import parse_text_records
from tasks.schema import RECORDS_SCHEMA, conform

__all__ = ["ArchiveLimits", "explode_records"]

_SIDECAR_FIELDS = ("uri", "published_at", "byline", "source_hint")


def _top_level_blob(row: dict[str, Any]) -> Blob:
    uri = row["uri"]
    location = row.get("path") or unquote(urlparse(uri).path) or uri
    name = location.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    raw = row["raw"]
    return Blob(
        file_uri=uri,
        uri=uri,
        name=name,
        folder=uri.rsplit("/", 1)[0],
        raw=raw,
        sha256=row.get("sha256") or sha256_hex(raw),
    )


def _unpack(blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    """The non-archive blobs in ``blob`` (``blob`` itself when it is no archive) and refusals, in order."""
    kind = sniff(blob.name, blob.raw)
    if kind not in ("gzip", "bzip2", "xz", "zip", "tar"):
        blob.kind = kind
        return [blob]
    if blob.depth >= limits.max_depth:
        return [quarantined(blob, None, f"archive nested too deeply (more than {limits.max_depth} levels)")]
    if kind in ("gzip", "bzip2", "xz"):
        content, reason = decompress(kind, blob.raw, limits)
        if content is None:
            return [quarantined(blob, None, reason or f"{kind} file could not be read")]
        inner = Blob(
            file_uri=blob.file_uri,
            uri=blob.uri,
            name=inner_name(blob.name),
            folder=blob.folder,
            raw=content,
            sha256=sha256_hex(content),
            depth=blob.depth + 1,
        )
        return _unpack(inner, limits)
    found: list[Blob | Record] = []
    for member in (unzip if kind == "zip" else untar)(blob, limits):
        found.extend(_unpack(member, limits) if isinstance(member, Blob) else [member])
    return found


def _stem(name: str) -> str:
    return name[: -len(suffix(name))] if suffix(name) else name


def _pair_sidecars(leaves: list[Blob]) -> dict[int, Blob]:
    """``id(candidate sidecar) -> article`` for every ``.json`` whose stem names a text or HTML sibling."""
    articles: dict[tuple[str, str], list[Blob]] = defaultdict(list)
    for blob in leaves:
        if blob.kind in ("text", "html") and suffix(blob.name) != ".json":
            articles[(blob.folder, _stem(blob.name))].append(blob)
            articles[(blob.folder, blob.name)].append(blob)
    pairs: dict[int, Blob] = {}
    for blob in leaves:
        if suffix(blob.name) == ".json" and blob.kind == "json":
            siblings = articles.get((blob.folder, _stem(blob.name)))
            if siblings:
                pairs[id(blob)] = siblings[0]
    return pairs


def _apply_sidecar(record: Record, metadata: dict[str, Any]) -> None:
    for column in _SIDECAR_FIELDS:
        if metadata.get(column) is not None:
            record[column] = metadata[column]
    if metadata.get("published_at") is not None:
        record["published_at_source"] = "sidecar"
    for column in ("title", "language_hint"):
        if record.get(column) is None and metadata.get(column) is not None:
            record[column] = metadata[column]


def _text_frame(blobs: list[tuple[int, Blob]]) -> pl.DataFrame:
    """Plain-text blobs through ``decode_bytes`` and ``parse_text_records``, with their ``_slot`` number."""
    decoded = [decode_bytes(blob.raw) for _, blob in blobs]
    frame = pl.DataFrame(
        {
            "_slot": [slot for slot, _ in blobs],
            "file_uri": [blob.file_uri for _, blob in blobs],
            "uri": [blob.uri for _, blob in blobs],
            "record_key": [blob.uri for _, blob in blobs],
            "sha256": [blob.sha256 for _, blob in blobs],
            "text": [text for text, _, _ in decoded],
            "quarantine_reason": [reason for _, _, reason in decoded],
        },
        schema={"_slot": pl.Int64, "file_uri": pl.String, "uri": pl.String, "record_key": pl.String,
                "sha256": pl.String, "text": pl.String, "quarantine_reason": pl.String},
    )  # fmt: skip
    return parse_text_records(frame).with_columns(frame["_slot"])


def _parse_leaf(blob: Blob, field_map: Mapping[str, str]) -> list[Record]:
    kind = blob.kind
    if kind == "html":
        return html_records(blob)
    if kind == "feed":
        return rss_atom_records(blob)
    if kind == "xml":
        records = rss_atom_records(blob)
        reason = records[0]["quarantine_reason"] if len(records) == 1 else None
        if reason and reason.startswith(("feed has no entries", "feed could not be parsed")):
            return [quarantined(blob, None, "XML document is not a news feed")]
        return records
    if kind == "json":
        return json_records(blob, field_map)
    description = binary_description(blob.raw) or "binary data"
    return [quarantined(blob, None, f"unsupported file type: {description}")]


def explode_records(
    files: pl.DataFrame,
    field_map: Mapping[str, str] | None = None,
    *,
    max_member_bytes: int = 10 * MB,
    max_archive_bytes: int = 200 * MB,
    max_ratio: float = 200.0,
    max_depth: int = 3,
) -> pl.DataFrame:
    """One record row per article candidate in the fetched files.

    A text or HTML file gives one row, a feed one per entry, a JSON dump one per record, a zip or tar its
    members' rows (recursively) and a ``.gz``, ``.bz2`` or ``.xz`` its content's rows. Rows that cannot
    become articles carry a plain-words ``quarantine_reason``; every file with bytes yields at least one row.
    A sidecar ``.json`` yields one row with ``raw_format = 'sidecar'`` and a ``quarantine_reason`` naming the
    article it was merged into.

    Args:
        files: ``uri, path, raw, sha256, quarantine_reason`` (``RAW_SCHEMA``); ``raw`` NULL when unreadable.
        field_map: Our column -> a JSON field (dotted paths allowed) for dumps whose names the built-in list
            does not know, e.g. ``{"body": "fields.bodyText"}``. Columns: title, body, uri, published_at,
            byline, source_hint, language_hint, description, canonical_url, caption, id.
        max_member_bytes: Largest uncompressed zip or tar member, or gzip, bzip2 or xz content.
        max_archive_bytes: Largest total uncompressed size of one zip.
        max_ratio: Largest compression ratio of a member over 1 MB (decompression-bomb guard).
        max_depth: How many archive levels are opened (a zip in a zip is two).

    Returns:
        A frame with exactly the ``RECORDS_SCHEMA`` columns.

    Raises:
        ValueError: ``field_map`` names a column that does not exist.
    """
    mapping = normalise_field_map(field_map)
    limits = ArchiveLimits(
        max_member_bytes=max_member_bytes, max_archive_bytes=max_archive_bytes, max_ratio=max_ratio,
        max_depth=max_depth,
    )  # fmt: skip
    slots: list[Record | Blob] = []
    for row in files.iter_rows(named=True):
        if row.get("raw") is None or row.get("quarantine_reason"):
            reason = row.get("quarantine_reason") or "file could not be read"
            slots.append(
                new_record(
                    Blob(row["uri"], row["uri"], "", "", b"", row.get("sha256") or ""),
                    None,
                    sha256=row.get("sha256"),
                    quarantine_reason=reason,
                )
            )
            continue
        slots.extend(_unpack(_top_level_blob(row), limits))

    blobs = [slot for slot in slots if isinstance(slot, Blob)]
    sidecars = _pair_sidecars(blobs)
    metadata: dict[int, dict[str, Any]] = {}
    sidecar_rows: dict[int, Record] = {}
    for blob in blobs:
        article = sidecars.get(id(blob))
        if article is None:
            continue
        values, reason = sidecar_metadata(blob.raw, mapping)
        if values is not None:
            metadata[id(article)] = values
            note = f"sidecar metadata of {article.name}, merged into that article"
        elif reason is not None:
            note = f"sidecar metadata of {article.name} is unusable: {reason}"
        else:
            continue
        sidecar_rows[id(blob)] = quarantined(blob, "sidecar", note)

    text_slots = [
        (number, slot)
        for number, slot in enumerate(slots)
        if isinstance(slot, Blob) and id(slot) not in sidecar_rows and slot.kind == "text"
    ]
    texts = _text_frame(text_slots) if text_slots else None
    text_numbers = {number for number, _ in text_slots}
    records: list[Record] = []
    with_sidecar = {number: metadata[id(blob)] for number, blob in text_slots if id(blob) in metadata}
    if texts is not None and with_sidecar:
        for record in texts.filter(pl.col("_slot").is_in(list(with_sidecar))).to_dicts():
            _apply_sidecar(record, with_sidecar[record["_slot"]])
            records.append(record)
        texts = texts.filter(~pl.col("_slot").is_in(list(with_sidecar)))
    for number, slot in enumerate(slots):
        if number in text_numbers:
            continue
        if not isinstance(slot, Blob):
            records.append({**slot, "_slot": number})
            continue
        if id(slot) in sidecar_rows:
            records.append({**sidecar_rows[id(slot)], "_slot": number})
            continue
        for record in _parse_leaf(slot, mapping):
            if id(slot) in metadata:
                _apply_sidecar(record, metadata[id(slot)])
            records.append({**record, "_slot": number})
    slot_schema = {**RECORDS_SCHEMA, "_slot": pl.Int64()}
    parts = [conform(texts, slot_schema)] if texts is not None else []
    if records:
        parts.append(conform(pl.DataFrame(records, schema=slot_schema, strict=False), slot_schema))
    if not parts:
        return pl.DataFrame(schema=RECORDS_SCHEMA)
    return pl.concat(parts).sort("_slot", maintain_order=True).drop("_slot")
