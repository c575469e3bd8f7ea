"""Find landing files and decide which of them need reading: discovery and the manifest diff."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.schema import FILES_SCHEMA

PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", "~")
DOCUMENTATION_STEMS = ("readme", "license", "licence", "changelog", "copying")
SYSTEM_FILES = ("thumbs.db", "desktop.ini")

LISTING_SCHEMA: dict[str, pl.DataType] = {**FILES_SCHEMA, "skip_reason": pl.String(), "source": pl.String()}


@dataclass(frozen=True)
class ListedFile:
    uri: str
    path: str
    size_bytes: int
    mtime_ns: int
    skip_reason: str | None = None
    source: str | None = None


def file_uri(path: str | Path) -> str:
    return Path(path).absolute().as_uri()


def skip_reason_for(name: str) -> str | None:
    """Why a file with this name is not an article, or None."""
    if name.startswith("."):
        return "hidden file"
    lowered = name.lower()
    for suffix in PARTIAL_SUFFIXES:
        if lowered.endswith(suffix):
            return f"partial or temporary download ({suffix})"
    if lowered in SYSTEM_FILES:
        return "operating-system file"
    if lowered.split(".", 1)[0] in DOCUMENTATION_STEMS:
        return "documentation file, not an article"
    return None


def _entry(path: str, st: os.stat_result, reason: str | None = None) -> ListedFile:
    return ListedFile(file_uri(path), path, st.st_size, st.st_mtime_ns, reason)


def _unreadable(path: str, error: OSError) -> ListedFile:
    return ListedFile(file_uri(path), path, 0, 0, f"unreadable: {error.strerror or error}")


def _walk(root: str, seen_dirs: set[tuple[int, int]]) -> Iterator[ListedFile]:
    try:
        root_stat = os.stat(root)
    except OSError as error:
        yield _unreadable(root, error)
        return
    key = (root_stat.st_dev, root_stat.st_ino)
    if key in seen_dirs:
        return
    seen_dirs.add(key)
    try:
        with os.scandir(root) as entries:
            children = sorted(entries, key=lambda entry: entry.name)
    except OSError as error:
        yield _unreadable(root, error)
        return
    for entry in children:
        try:
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError as error:
            yield _unreadable(entry.path, error)
            continue
        if is_dir:
            if entry.name.startswith("."):
                continue
            yield from _walk(entry.path, seen_dirs)
            continue
        try:
            st = entry.stat(follow_symlinks=True)
        except OSError as error:
            reason = "broken symlink" if entry.is_symlink() else f"unreadable: {error.strerror or error}"
            yield ListedFile(file_uri(entry.path), entry.path, 0, 0, reason)
            continue
        if not stat.S_ISREG(st.st_mode):
            yield _entry(entry.path, st, "not a regular file")
            continue
        yield _entry(entry.path, st, skip_reason_for(entry.name))


def _local_path(source: str) -> str:
    if source.startswith("file://"):
        return unquote(urlparse(source).path)
    return os.path.expanduser(source)


def source_label(source: str) -> str:
    """The default source name for a SOURCE argument: the folder's name (a file's or glob's folder)."""
    path = _local_path(source).rstrip("/")
    if glob.has_magic(path):
        parts = Path(path).parts
        stem = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
        path = str(Path(*parts[:stem])) if stem else "."
    elif os.path.isfile(path):
        path = os.path.dirname(path) or "."
    return Path(os.path.abspath(path)).name or "root"


def list_local(sources: Iterable[str], source_name: str | None = None) -> Iterator[ListedFile]:
    """Every file under the given files, folders and globs; each file once, in a stable order."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for source in sources:
        label = source_name or source_label(source)
        path = _local_path(source)
        if glob.has_magic(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no files match {source!r}")
        else:
            if not os.path.lexists(path):
                raise FileNotFoundError(f"source not found: {source}")
            matches = [path]
        for match in matches:
            found = _walk(match, seen_dirs) if os.path.isdir(match) else _single(match)
            for listed in found:
                if listed.uri not in seen_files:
                    seen_files.add(listed.uri)
                    yield ListedFile(
                        listed.uri, listed.path, listed.size_bytes, listed.mtime_ns, listed.skip_reason, label
                    )


def _single(path: str) -> Iterator[ListedFile]:
    try:
        st = os.stat(path)
    except OSError as error:
        yield _unreadable(path, error)
        return
    if not stat.S_ISREG(st.st_mode):
        yield _entry(path, st, "not a regular file")
        return
    yield _entry(path, st, skip_reason_for(os.path.basename(path)))


def listing_frame(files: Iterable[ListedFile]) -> pl.DataFrame:
    rows = [(f.uri, f.path, f.size_bytes, f.mtime_ns, f.skip_reason, f.source) for f in files]
    return pl.DataFrame(rows, schema=LISTING_SCHEMA, orient="row")


def discover_local(sources: list[str], source_name: str | None = None) -> pl.DataFrame:
    """The listing of local sources: ``uri, path, size_bytes, mtime_ns, skip_reason, source``."""
    return listing_frame(list_local(sources, source_name))


def diff_listing(listing: pl.DataFrame, manifest: pl.DataFrame) -> pl.DataFrame:
    """Mark each listed file ``new``, ``changed``, ``touched`` or ``unchanged`` against the manifest.

    ``manifest`` holds the latest ``file_uri, size_bytes, mtime_ns, sha256`` per file already seen. Same size
    and mtime means unchanged; the same size with another mtime is ``touched`` (the content hash decides once
    the file is read); a different size is ``changed``.
    """
    known = manifest.select(
        pl.col("file_uri").alias("uri"),
        pl.col("size_bytes").alias("known_size"),
        pl.col("mtime_ns").alias("known_mtime"),
        pl.col("sha256").alias("known_sha256"),
    ).unique("uri", keep="last")
    return listing.join(known, on="uri", how="left").with_columns(
        pl.when(pl.col("known_size").is_null())
        .then(pl.lit("new"))
        .when((pl.col("known_size") == pl.col("size_bytes")) & (pl.col("known_mtime") == pl.col("mtime_ns")))
        .then(pl.lit("unchanged"))
        .when(pl.col("known_size") == pl.col("size_bytes"))
        .then(pl.lit("touched"))
        .otherwise(pl.lit("changed"))
        .alias("change")
    )


@task(name="discover_files", cache_policy=NO_CACHE)
def discover_files(sources: list[str], source_name: str | None = None) -> pl.DataFrame:
    return discover_local(sources, source_name)


@task(name="diff_against_manifest", cache_policy=NO_CACHE)
def diff_against_manifest(listing: pl.DataFrame, manifest: pl.DataFrame) -> pl.DataFrame:
    return diff_listing(listing, manifest)
