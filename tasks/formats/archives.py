"""Compressed files (gzip, bzip2, xz) and zip and tar containers, opened in memory with limits against
decompression bombs."""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import posixpath
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote

from tasks.formats.common import Blob, Record, quarantined, sha256_hex
from tasks.formats.sniff import TAR_HEADER_PROBE_BYTES, is_tar

MB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may unpack to.

    Attributes:
        max_member_bytes: largest uncompressed member (or content of a gzip, bzip2 or xz file, unless
            the content is a tar).
        max_archive_bytes: largest total uncompressed size of one zip's or tar's members, and of a
            compressed tar.
        max_ratio: largest uncompressed/compressed ratio, checked once a member passes ``ratio_floor_bytes``.
        ratio_floor_bytes: members smaller than this are never judged by their ratio.
        max_depth: archives inside archives, counting the outermost one.
        max_members: zip or tar members read per archive.
    """

    max_member_bytes: int = 10 * MB
    max_archive_bytes: int = 200 * MB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * MB
    max_depth: int = 3
    max_members: int = 10_000


def _size(size: int) -> str:
    return f"{size / MB:.1f} MB" if size >= MB else f"{size:,} bytes"


Compression = Literal["gzip", "bzip2", "xz"]

_COMPRESSED_SUFFIXES: dict[str, str] = {
    ".tgz": ".tar",
    ".tbz2": ".tar",
    ".tbz": ".tar",
    ".txz": ".tar",
    ".gz": "",
    ".bz2": "",
    ".xz": "",
}


def inner_name(name: str) -> str:
    """The name of a compressed file's content: ``a.html.gz`` -> ``a.html``, ``a.tgz`` -> ``a.tar``,
    ``a.json.bz2`` -> ``a.json``, ``a.txz`` -> ``a.tar``."""
    lowered = name.lower()
    for ending, replacement in _COMPRESSED_SUFFIXES.items():
        if lowered.endswith(ending):
            return name[: -len(ending)] + replacement
    return name


def _decompressor(kind: Compression) -> Any:
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)


_STREAM_MAGIC: dict[Compression, bytes] = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}
_STREAM_ERRORS = (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError)


def compresses_a_tar(kind: Compression, raw: bytes) -> bool:
    """Whether a compressed stream's content starts with a tar header (``.tar.gz``, ``.tgz``, ``.tar.xz``
    ..., whatever its name)."""
    try:
        head = _decompressor(kind).decompress(raw, TAR_HEADER_PROBE_BYTES)
    except _STREAM_ERRORS:
        return False
    return is_tar(head)


def _inflate_stream(kind: Compression, data: bytes, out: bytearray, cap: int) -> tuple[bool, bytes]:
    """Append one compressed stream of ``data`` to ``out``, stopping once ``out`` passes ``cap`` bytes.

    Returns whether the stream reached its end marker, and the bytes after it.
    """
    stream = _decompressor(kind)
    pending = data
    while not stream.eof and len(out) <= cap:
        chunk = stream.decompress(pending, cap + 1 - len(out))
        out += chunk
        if kind == "gzip":
            pending = stream.unconsumed_tail
            if not chunk and not pending:
                break
        else:
            pending = b""
            if not chunk and stream.needs_input:
                break
    return stream.eof, stream.unused_data if stream.eof else b""


def decompress(kind: Compression, raw: bytes, limits: ArchiveLimits) -> tuple[bytes | None, str | None]:
    """The content of a gzip, bzip2 or xz file (every stream of a multi-stream one), or a reason it may not
    or cannot be read.

    The content may be ``limits.max_member_bytes`` long, or ``limits.max_archive_bytes`` when it is a tar.
    """
    if compresses_a_tar(kind, raw):
        limits = replace(limits, max_member_bytes=limits.max_archive_bytes)
    out = bytearray()
    data = raw
    while data:
        try:
            ended, data = _inflate_stream(kind, data, out, limits.max_member_bytes)
        except _STREAM_ERRORS as error:
            return None, f"{kind} file is corrupt: {error}"
        if len(out) > limits.max_member_bytes:
            limit = _size(limits.max_member_bytes)
            return None, (
                f"{kind} content exceeds size limit (more than {limit} uncompressed; decompression bomb?)"
            )
        if not ended:
            return None, f"{kind} file is truncated: the compressed stream ends before its end marker"
        if not data.startswith(_STREAM_MAGIC[kind]):
            break
    if len(out) > limits.ratio_floor_bytes and len(out) > limits.max_ratio * len(raw):
        return (
            None,
            f"{kind} content exceeds the {limits.max_ratio:g}x compression ratio limit (decompression bomb)",
        )
    return bytes(out), None


_SEPARATORS = re.compile(r"[\\/]+")


def safe_member_path(name: str) -> str:
    """A zip or tar member's name with ``..``, ``.``, drive letters and leading slashes removed."""
    parts = [part for part in _SEPARATORS.split(name) if part not in ("", ".", "..")]
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):
        parts = parts[1:]
    return "/".join(parts) or "unnamed"


def _is_junk(path: str) -> bool:
    parts = path.split("/")
    return (
        parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts) or parts[-1] in ("Thumbs.db",)
    )


def _member_blob(parent: Blob, path: str, raw: bytes) -> Blob:
    folder = posixpath.dirname(path)
    return Blob(
        file_uri=parent.file_uri,
        uri=f"{parent.uri}#{quote(path, safe='/')}",
        name=posixpath.basename(path),
        folder=f"{parent.uri}#{quote(folder, safe='/')}",
        raw=raw,
        sha256=sha256_hex(raw),
        depth=parent.depth + 1,
    )


@dataclass(frozen=True)
class _Entry:
    """One archive member as the archive lists it, before it is read.

    Attributes:
        name: the member's name as written in the archive.
        size: its declared (uncompressed) size.
        read: reads its bytes, up to one past the member limit.
        is_dir: a folder entry, passed over.
        refusal: why the member may not be read at all (encrypted, a link ...), or None.
        compressed: the compressed size of a compressed member (zip), which its ratio is judged by.
    """

    name: str
    size: int
    read: Callable[[], bytes]
    is_dir: bool = False
    refusal: str | None = None
    compressed: int | None = None


class _ArchiveCut(Exception):
    """The archive's listing stops early: ``state`` ("is truncated") and what was found there."""

    def __init__(self, state: str, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


_UNREADABLE = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)


def _too_compressed(size: int, entry: _Entry, limits: ArchiveLimits) -> bool:
    return (
        entry.compressed is not None
        and size > limits.ratio_floor_bytes
        and size > limits.max_ratio * max(entry.compressed, 1)
    )


def _take(entry: _Entry, kind: str, limits: ArchiveLimits, room: int) -> bytes | str:
    """The member's bytes, or why it may not be read: held to its limits before and after reading.

    ``room`` is what the archive's total size limit leaves for it.
    """
    if entry.refusal is not None:
        return entry.refusal
    limit = _size(limits.max_member_bytes)
    bomb = "; decompression bomb?" if entry.compressed is not None else ""
    ratio = f"{kind} member exceeds the {limits.max_ratio:g}x compression ratio limit (decompression bomb)"
    if entry.size > limits.max_member_bytes:
        declared = " uncompressed" if entry.compressed is not None else ""
        return f"{kind} member exceeds size limit ({_size(entry.size)}{declared}, the limit is {limit}{bomb})"
    if _too_compressed(entry.size, entry, limits):
        return ratio
    if entry.size > room:
        return f"{kind} archive exceeds its total size limit ({_size(limits.max_archive_bytes)}); not read"
    try:
        data = entry.read()
    except _UNREADABLE as error:
        return f"{kind} member is corrupt or unreadable: {error}"
    if len(data) > limits.max_member_bytes:
        return f"{kind} member exceeds size limit (over {limit}{bomb})"
    if _too_compressed(len(data), entry, limits):
        return ratio
    if len(data) < entry.size:
        return f"{kind} member is truncated ({_size(len(data))} of {_size(entry.size)})"
    return data


def _read_members(
    blob: Blob, kind: str, entries: Iterator[_Entry], limits: ArchiveLimits
) -> list[Blob | Record]:
    """The members of a zip or tar as blobs, and a quarantined record for each that may not be read.

    Folders and junk (``__MACOSX``, ``._*``) are passed over; each member is held to the size, ratio,
    count and total limits (:func:`_take`); a listing cut short (:class:`_ArchiveCut`) keeps the members
    before the cut and adds one record saying where it ended.
    """
    members: list[Blob | Record] = []
    total = 0
    count = 0
    try:
        for entry in entries:
            path = safe_member_path(entry.name)
            if entry.is_dir or _is_junk(path):
                continue
            count += 1
            if count > limits.max_members:
                reason = f"{kind} archive has more than {limits.max_members} members; the rest were not read"
                members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#more-members"))
                break
            taken = _take(entry, kind, limits, limits.max_archive_bytes - total)
            if isinstance(taken, str):
                members.append(quarantined(_member_blob(blob, path, b""), None, taken, sha256=None))
                continue
            total += len(taken)
            members.append(_member_blob(blob, path, taken))
    except _ArchiveCut as cut:
        read = sum(isinstance(member, Blob) for member in members)
        reason = f"{kind} archive {cut.state} after {read} members read: {cut.detail}"
        members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#truncated"))
    return members or [quarantined(blob, None, f"{kind} archive holds no files")]


def unzip(blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    """A zip's members as blobs, and a quarantined record for each member that may not be read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob.raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        return [quarantined(blob, None, f"zip archive is corrupt or truncated: {error}")]

    def read(info: zipfile.ZipInfo) -> bytes:
        with archive.open(info) as handle:
            return handle.read(limits.max_member_bytes + 1)

    entries = (
        _Entry(
            name=info.filename,
            size=info.file_size,
            read=functools.partial(read, info),
            is_dir=info.is_dir(),
            refusal="zip member is encrypted" if info.flag_bits & 0x1 else None,
            compressed=info.compress_size,
        )
        for info in infos
    )
    return _read_members(blob, "zip", entries, limits)


def untar(blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    """A tar's regular files as blobs, and a quarantined record for each member that may not be read.

    Links and device files are refused, never followed. A tar cut short keeps the members before the cut
    and says where it ended.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(blob.raw), mode="r:") as archive:
            return _read_members(blob, "tar", _tar_entries(archive, blob.raw), limits)
    except (tarfile.TarError, EOFError, ValueError, OSError) as error:
        return [quarantined(blob, None, f"tar archive is corrupt or truncated: {error}")]


def _tar_refusal(info: tarfile.TarInfo) -> str | None:
    if info.issym() or info.islnk():
        target = f" (to {info.linkname})" if info.linkname else ""
        return f"tar member is a link{target}; links are not followed"
    if not info.isreg() and not info.isdir():
        return "tar member is not a regular file (a device, FIFO or other special file)"
    return None


def _tar_entries(archive: tarfile.TarFile, raw: bytes) -> Iterator[_Entry]:
    """The tar's members in order; a header that cannot be read, or a missing end marker (which tarfile
    takes for the end), raises :class:`_ArchiveCut`."""

    def read(info: tarfile.TarInfo) -> bytes:
        handle = archive.extractfile(info)
        return handle.read() if handle is not None else b""

    while True:
        try:
            info = archive.next()
        except (tarfile.TarError, EOFError, ValueError, OSError) as error:
            raise _ArchiveCut("is corrupt or truncated", str(error)) from error
        if info is None:
            if archive.offset >= len(raw) or raw[archive.offset : archive.offset + 1024].strip(b"\0"):
                raise _ArchiveCut("is truncated", "it has no end marker")
            return
        yield _Entry(
            name=info.name,
            size=info.size,
            read=functools.partial(read, info),
            is_dir=info.isdir(),
            refusal=_tar_refusal(info),
        )
