"""What a blob holds, from its name and its first bytes: the name suggests, the content decides."""

from __future__ import annotations

import json
import re
from typing import Literal

Kind = Literal["gzip", "bzip2", "xz", "zip", "tar", "html", "feed", "xml", "json", "text", "binary"]

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"RIFF", "RIFF media file"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
)
_HTML_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml")
_FEED_EXTENSIONS = (".rss", ".atom", ".rdf")
_JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson", ".jsonlines")
_PROLOG = re.compile(
    rb"\A(?:\s+|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*",
    re.S | re.I,
)
_ROOT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_HTML_START = re.compile(
    rb"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article)\b", re.S | re.I
)
_FEED_ROOTS = {b"rss", b"feed", b"rdf:rdf", b"rdf", b"channel"}
_BZIP2_HEADER = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
"""A bzip2 stream's start: ``BZh``, the block size, then a block's or the (empty) stream's end's magic."""


def suffix(name: str) -> str:
    """The lower-cased last extension of ``name`` including the dot, or ``''``."""
    base = name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


TAR_HEADER_PROBE_BYTES = 262


def is_tar(raw: bytes) -> bool:
    """Whether ``raw`` starts with a POSIX (ustar, pax) or GNU tar header: ``ustar`` at offset 257."""
    return raw[257:TAR_HEADER_PROBE_BYTES] == b"ustar"


_MAGIC_PREFIXES = tuple(magic for magic, _ in _BINARY_MAGIC)


def binary_description(raw: bytes) -> str | None:
    """A name for a known non-text file type, or None."""
    if raw.startswith(_MAGIC_PREFIXES):
        return next(description for magic, description in _BINARY_MAGIC if raw.startswith(magic))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if raw.find(b"\x00", 0, 4096) != -1:
        return "binary data"
    return None


def _head_text(raw: bytes) -> bytes:
    """The first bytes as an ASCII-compatible byte string (UTF-16 BOM files re-encoded), BOM removed."""
    head = raw[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore").encode("utf-8", errors="ignore")
    return head.removeprefix(b"\xef\xbb\xbf")


def xml_root(raw: bytes) -> str | None:
    """The local name of the first element after the XML prolog, lower-cased, or None."""
    head = _head_text(raw)
    prolog = _PROLOG.match(head)
    rest = head[prolog.end() if prolog else 0 :]
    match = _ROOT.match(rest)
    return match.group(1).decode("ascii", errors="ignore").lower() if match else None


def _is_json(raw: bytes) -> bool:
    head = _head_text(raw).lstrip()
    if head[:1] not in (b"{", b"["):
        return False
    text = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        json.loads(text)
        return True
    except (ValueError, UnicodeDecodeError):
        pass
    lines = [line for line in text.splitlines()[:5] if line.strip()]
    try:
        return bool(lines) and all(isinstance(json.loads(line), dict) for line in lines[:-1] or lines)
    except (ValueError, UnicodeDecodeError):
        return False


def sniff(name: str, raw: bytes) -> Kind:
    """The blob's format: magic bytes first, then markup and JSON shape, then the extension breaks ties."""
    if raw.startswith(b"\x1f\x8b"):
        return "gzip"
    if _BZIP2_HEADER.match(raw):
        return "bzip2"
    if raw.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if is_tar(raw):
        return "tar"
    if binary_description(raw) is not None:
        return "binary"
    ext = suffix(name)
    head = _head_text(raw).lstrip()
    if head.startswith(b"<"):
        root = xml_root(raw)
        if root in _FEED_ROOTS or (root and root.endswith(":rdf")):
            return "feed"
        if root in ("html", "head", "body") or _HTML_START.match(head):
            return "html"
        if ext in _HTML_EXTENSIONS:
            return "html"
        if ext in _FEED_EXTENSIONS or ext == ".xml" or head.startswith(b"<?xml"):
            return "xml"
        return "html" if re.search(rb"</(p|div|body|html)>", raw[:65536], re.I) else "text"
    if head[:1] in (b"{", b"[") and (ext in _JSON_EXTENSIONS or _is_json(raw)):
        return "json"
    if ext in _JSON_EXTENSIONS:
        return "json"
    return "text"
