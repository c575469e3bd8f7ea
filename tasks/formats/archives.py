"""gzip, zip and tar containers, opened in memory with limits against decompression bombs."""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, replace
from urllib.parse import quote

from tasks.formats.common import Blob, Record, quarantined, sha256_hex
from tasks.formats.sniff import TAR_HEADER_PROBE_BYTES, is_tar

MB = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an archive may unpack to.

    Attributes:
        max_member_bytes: largest uncompressed member (or gzip content, unless the content is a tar).
        max_archive_bytes: largest total uncompressed size of one zip's or tar's members, and of a
            gzipped tar.
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


def inner_name(name: str) -> str:
    """The name of a gzip's content: ``a.html.gz`` -> ``a.html``, ``a.tgz`` -> ``a.tar``."""
    lowered = name.lower()
    if lowered.endswith(".tgz"):
        return name[:-4] + ".tar"
    return name[:-3] if lowered.endswith(".gz") else name


def gzips_a_tar(raw: bytes) -> bool:
    """Whether a gzip stream's content starts with a tar header (``.tar.gz``, ``.tgz``, whatever its name)."""
    try:
        head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, TAR_HEADER_PROBE_BYTES)
    except zlib.error:
        return False
    return is_tar(head)


def gunzip(raw: bytes, limits: ArchiveLimits) -> tuple[bytes | None, str | None]:
    """The content of a (possibly multi-member) gzip stream, or a reason it may not or cannot be read.

    The content may be ``limits.max_member_bytes`` long, or ``limits.max_archive_bytes`` when it is a tar.
    """
    if gzips_a_tar(raw):
        limits = replace(limits, max_member_bytes=limits.max_archive_bytes)
    out = bytearray()
    data = raw
    while data:
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            pending = data
            while not stream.eof and len(out) <= limits.max_member_bytes:
                chunk = stream.decompress(pending, limits.max_member_bytes + 1 - len(out))
                out += chunk
                pending = stream.unconsumed_tail
                if not chunk and not pending:
                    break
        except zlib.error as error:
            return None, f"gzip file is corrupt: {error}"
        if len(out) > limits.max_member_bytes:
            return None, (
                f"gzip content exceeds size limit (more than {_size(limits.max_member_bytes)} uncompressed; "
                "decompression bomb?)"
            )
        if not stream.eof:
            return None, "gzip file is truncated: the compressed stream ends before its end marker"
        data = stream.unused_data
        if not data.startswith(b"\x1f\x8b"):
            break
    if len(out) > limits.ratio_floor_bytes and len(out) > limits.max_ratio * len(raw):
        return (
            None,
            f"gzip content exceeds the {limits.max_ratio:g}x compression ratio limit (decompression bomb)",
        )
    return bytes(out), None


_SEPARATORS = re.compile(r"[\\/]+")


def safe_member_path(name: str) -> str:
    """A zip member's name with ``..``, ``.``, drive letters and leading slashes removed."""
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


def unzip(blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    """A zip's members as blobs, and a quarantined record for each member that may not be read."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob.raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        return [quarantined(blob, None, f"zip archive is corrupt or truncated: {error}")]
    members: list[Blob | Record] = []
    total = 0
    count = 0
    for info in infos:
        path = safe_member_path(info.filename)
        if info.is_dir() or _is_junk(path):
            continue
        count += 1
        placeholder = _member_blob(blob, path, b"")
        if count > limits.max_members:
            reason = f"zip archive has more than {limits.max_members} members; the rest were not read"
            members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#more-members"))
            break

        def refuse(reason: str, member: Blob = placeholder) -> None:
            members.append(quarantined(member, None, reason, sha256=None))

        if info.flag_bits & 0x1:
            refuse("zip member is encrypted")
            continue
        if info.file_size > limits.max_member_bytes:
            refuse(
                f"zip member exceeds size limit ({_size(info.file_size)} uncompressed, the limit is "
                f"{_size(limits.max_member_bytes)}; decompression bomb?)"
            )
            continue
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            refuse(
                f"zip member exceeds the {limits.max_ratio:g}x compression ratio limit (decompression bomb)"
            )
            continue
        if total + info.file_size > limits.max_archive_bytes:
            refuse(f"zip archive exceeds its total size limit ({_size(limits.max_archive_bytes)}); not read")
            continue
        try:
            with archive.open(info) as handle:
                data = handle.read(limits.max_member_bytes + 1)
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            OSError,
            NotImplementedError,
            RuntimeError,
        ) as error:
            refuse(f"zip member is corrupt or unreadable: {error}")
            continue
        if len(data) > limits.max_member_bytes:
            refuse(
                f"zip member exceeds size limit (over {_size(limits.max_member_bytes)}; decompression bomb?)"
            )
            continue
        if len(data) > limits.ratio_floor_bytes and len(data) > limits.max_ratio * max(info.compress_size, 1):
            refuse(
                f"zip member exceeds the {limits.max_ratio:g}x compression ratio limit (decompression bomb)"
            )
            continue
        total += len(data)
        members.append(_member_blob(blob, path, data))
    return members or [quarantined(blob, None, "zip archive holds no files")]


def _link_target(info: tarfile.TarInfo) -> str:
    return f" (to {info.linkname})" if info.linkname else ""


def untar(blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    """A tar's regular files as blobs, and a quarantined record for each member that may not be read.

    Directories and junk (``._*``, ``__MACOSX``) are passed over; links and device files are refused, never
    followed. A tar cut short keeps the members before the cut and says where it ended.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(blob.raw), mode="r:") as archive:
            members = _tar_members(archive, blob, limits)
    except (tarfile.TarError, EOFError, ValueError, OSError) as error:
        return [quarantined(blob, None, f"tar archive is corrupt or truncated: {error}")]
    return members or [quarantined(blob, None, "tar archive holds no files")]


def _tar_members(archive: tarfile.TarFile, blob: Blob, limits: ArchiveLimits) -> list[Blob | Record]:
    members: list[Blob | Record] = []
    total = 0
    count = 0
    while True:
        try:
            info = archive.next()
        except (tarfile.TarError, EOFError, ValueError, OSError) as error:
            read = sum(isinstance(member, Blob) for member in members)
            reason = f"tar archive is corrupt or truncated after {read} members read: {error}"
            members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#truncated"))
            break
        if info is None:
            if archive.offset >= len(blob.raw) or blob.raw[archive.offset : archive.offset + 1024].strip(
                b"\0"
            ):
                read = sum(isinstance(member, Blob) for member in members)
                reason = f"tar archive is truncated after {read} members read: it has no end marker"
                members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#truncated"))
            break
        path = safe_member_path(info.name)
        if info.isdir() or _is_junk(path):
            continue
        count += 1
        placeholder = _member_blob(blob, path, b"")
        if count > limits.max_members:
            reason = f"tar archive has more than {limits.max_members} members; the rest were not read"
            members.append(quarantined(blob, None, reason, record_key=f"{blob.uri}#more-members"))
            break

        def refuse(reason: str, member: Blob = placeholder) -> None:
            members.append(quarantined(member, None, reason, sha256=None))

        if info.issym() or info.islnk():
            refuse(f"tar member is a link{_link_target(info)}; links are not followed")
            continue
        if not info.isreg():
            refuse("tar member is not a regular file (a device, FIFO or other special file)")
            continue
        if info.size > limits.max_member_bytes:
            refuse(
                f"tar member exceeds size limit ({_size(info.size)}, the limit is "
                f"{_size(limits.max_member_bytes)})"
            )
            continue
        if total + info.size > limits.max_archive_bytes:
            refuse(f"tar archive exceeds its total size limit ({_size(limits.max_archive_bytes)}); not read")
            continue
        try:
            handle = archive.extractfile(info)
            data = handle.read() if handle is not None else b""
        except (tarfile.TarError, EOFError, ValueError, OSError) as error:
            refuse(f"tar member is corrupt or unreadable: {error}")
            continue
        if len(data) < info.size:
            refuse(f"tar member is truncated ({_size(len(data))} of {_size(info.size)})")
            continue
        total += len(data)
        members.append(_member_blob(blob, path, data))
    return members
