"""Where landing files come from: one interface over local folders, HTTP(S) URLs and fsspec stores (S3, ...).

A SOURCE string (a path, glob, ``file://``, ``http(s)://``, ``s3://`` or other fsspec URL) opens a
:class:`Source`. ``Source.list`` yields one :class:`ListedFile` per file; ``Source.read`` takes listing rows
of its kind (after the manifest diff, so with ``change`` and ``known_*`` columns when known) and returns them
with ``raw``, ``sha256``, ``quarantine_reason``, ``etag`` and ``last_modified``.

Secrets never reach a recorded field: ``uri`` and every reason carry URLs through :func:`redact_url`; only
``path``, which the reader opens and nothing records, keeps a URL's credentials.
"""

from __future__ import annotations

import glob
import hashlib
import os
import random
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, unquote_to_bytes, urlencode, urlsplit, urlunsplit

import fsspec
import httpx
import polars as pl

from newsflow import __version__

USER_AGENT = f"newsflow/{__version__} (+https://github.com/newsflow)"

UNKNOWN_SIZE = -1
"""``size_bytes`` of a file whose size only reading tells (HTTP); the diff calls it ``touched`` when known."""

PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".temp", ".crdownload", ".download", ".swp", "~")
DOCUMENTATION_STEMS = ("readme", "license", "licence", "changelog", "copying")
SYSTEM_FILES = ("thumbs.db", "desktop.ini")

SECRET_QUERY_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "api-key",
        "auth",
        "password",
        "passwd",
        "secret",
        "sig",
        "signature",
        "token",
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
        "x-goog-credential",
        "x-goog-signature",
    }
)
"""Query parameters whose values are credentials: masked in recorded URLs."""

HTTP_SCHEMES = ("http", "https")
LOCAL_SCHEMES = ("", "file", "local")

ENDPOINT_SETTING = "s3_endpoint_url"
"""The newsflow setting (``NEWSFLOW_S3_ENDPOINT_URL``) naming an S3-compatible endpoint."""


@dataclass(frozen=True)
class ListedFile:
    """One file found by a source's listing.

    ``etag`` and ``last_modified`` are the store's validators when the listing gives them (S3); HTTP
    validators only arrive with the response.
    """

    uri: str
    path: str
    size_bytes: int
    mtime_ns: int
    skip_reason: str | None = None
    source: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Fetched:
    """What reading one listed row gave; ``None`` in the optional fields keeps the listing's value."""

    raw: bytes | None = None
    sha256: str | None = None
    reason: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    size_bytes: int | None = None
    mtime_ns: int | None = None
    change: str | None = None

    @classmethod
    def content(cls, raw: bytes, **fields: Any) -> Fetched:
        """A successful read of ``raw``."""
        return cls(raw=raw, sha256=hashlib.sha256(raw).hexdigest(), **fields)

    @classmethod
    def failed(cls, reason: str) -> Fetched:
        """A read that failed for ``reason`` (plain words, no secrets)."""
        return cls(reason=reason)


class Source(Protocol):
    """A place landing files come from."""

    def list(self) -> Iterator[ListedFile]:
        """Every file of the source, each once, in a stable order."""
        ...

    def read(self, rows: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
        """The rows (listed files of this source's kind) with their content.

        Args:
            rows: Listing rows: ``uri, path, size_bytes, mtime_ns`` and whatever else the listing carries
                (``change``, ``known_sha256``, ``known_etag``, ``known_last_modified``, ...).
            max_file_bytes: Files larger than this are not read but quarantined.

        Returns:
            The same rows in the same order plus ``raw, sha256, quarantine_reason, etag, last_modified``.
        """
        ...


@dataclass(frozen=True)
class HttpOptions:
    """How politely and how patiently HTTP sources are read.

    Attributes:
        timeout: Seconds allowed to connect, and between two received chunks.
        retries: Further attempts after a connection error, a timeout, a 5xx or a 429.
        backoff: Seconds before the first retry; doubled for each further one.
        max_backoff: Longest pause between attempts; a ``Retry-After`` asking for more gives up instead.
        concurrency: Requests in flight at once, over all hosts.
        per_host: Requests in flight at once to one host.
        max_redirects: Redirects followed before giving up.
        deadline: Longest time one attempt may take in all, however steadily the body trickles in.
        user_agent: The ``User-Agent`` header.
    """

    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 60.0
    concurrency: int = 8
    per_host: int = 4
    max_redirects: int = 10
    deadline: float = 300.0
    user_agent: str = USER_AGENT

    @classmethod
    def from_settings(cls, settings: object | None = None) -> HttpOptions:
        """Options from newsflow settings named ``http_timeout_seconds``, ``http_retries``,
        ``http_concurrency`` and ``http_per_host``, where they exist; defaults otherwise."""
        if settings is None:
            settings = _load_settings()
        names = {
            "timeout": "http_timeout_seconds",
            "retries": "http_retries",
            "concurrency": "http_concurrency",
            "per_host": "http_per_host",
        }
        chosen = {key: getattr(settings, name) for key, name in names.items() if hasattr(settings, name)}
        return replace(cls(), **chosen)


def _load_settings() -> object | None:
    from newsflow.settings import load_settings

    return load_settings()


def redact_url(url: str) -> str:
    """The URL without ``user:password@`` and with credential-like query values masked."""
    parts = urlsplit(url)
    if not parts.scheme or (not parts.netloc and not parts.query):
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key.lower() in SECRET_QUERY_KEYS for key, _ in pairs):
            query = urlencode(
                [(key, "REDACTED" if key.lower() in SECRET_QUERY_KEYS else value) for key, value in pairs]
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets_of(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [value for value in (parts.password, parts.username) if value]
    found += [value for key, value in parse_qsl(parts.query) if key.lower() in SECRET_QUERY_KEYS and value]
    return found


def scrub(text: str, url: str) -> str:
    """``text`` (an error message) with ``url`` redacted and none of its credentials left in it."""
    text = text.replace(url, redact_url(url))
    for secret in sorted(_secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        value = os.environ.get(name)
        if value and len(value) >= 8:
            text = text.replace(value, "***")
    return text


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


def file_uri(path: str | Path) -> str:
    """The ``file://`` URI of a local path."""
    return Path(path).absolute().as_uri()


def scheme_of(source: str) -> str:
    """The lower-cased URL scheme of a SOURCE or uri; ``""`` for a plain path."""
    if "://" not in source:
        return ""
    return source.split("://", 1)[0].lower()


def source_label(source: str) -> str:
    """The default source name of a SOURCE: a folder's name (a file's or glob's folder), a URL's host, or
    the last segment of an object-store prefix (the bucket when there is none)."""
    scheme = scheme_of(source)
    if scheme in HTTP_SCHEMES:
        return urlsplit(source).hostname or "web"
    if scheme not in LOCAL_SCHEMES:
        segments = [part for part in _static_prefix(source.split("://", 1)[1]).split("/") if part]
        if segments and "@" in segments[0]:
            segments[0] = segments[0].rsplit("@", 1)[1]
        return segments[-1] if segments else scheme
    path = _local_path(source).rstrip("/")
    if glob.has_magic(path):
        parts = Path(path).parts
        stem = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
        path = str(Path(*parts[:stem])) if stem else "."
    elif os.path.isfile(path):
        path = os.path.dirname(path) or "."
    return Path(os.path.abspath(path)).name or "root"


def _static_prefix(path: str) -> str:
    """The part of a glob before its first wildcard segment."""
    parts = path.split("/")
    stem = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return "/".join(parts[:stem])


def _local_path(source: str) -> str:
    if scheme_of(source) in ("file", "local"):
        return unquote(urlsplit(source).path)
    return os.path.expanduser(source)


def _row_results(rows: pl.DataFrame, results: list[Fetched]) -> pl.DataFrame:
    """``rows`` with the content columns from ``results`` (one per row, in order)."""

    def kept(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
        listed = rows[name].to_list() if name in rows.columns else [None] * rows.height
        return pl.Series(
            name,
            [new if new is not None else old for new, old in zip(values, listed, strict=True)],
            dtype=dtype,
        )

    return rows.with_columns(
        pl.Series("raw", [r.raw for r in results], dtype=pl.Binary()),
        pl.Series("sha256", [r.sha256 for r in results], dtype=pl.String()),
        pl.Series("quarantine_reason", [r.reason for r in results], dtype=pl.String()),
        kept("etag", [r.etag for r in results], pl.String()),
        kept("last_modified", [r.last_modified for r in results], pl.String()),
        kept("size_bytes", [r.size_bytes for r in results], pl.Int64()),
        kept("mtime_ns", [r.mtime_ns for r in results], pl.Int64()),
        *(
            [kept("change", [r.change for r in results], pl.String())]
            if "change" in rows.columns or any(r.change for r in results)
            else []
        ),
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _too_large(size: int, limit: int) -> str:
    return f"file too large: {_megabytes(size)} over the {_megabytes(limit)} limit (max_file_bytes)"


def _grew(limit: int) -> str:
    return f"file grew past the {_megabytes(limit)} limit while being read"


class LocalSource:
    """Files, folders (recursive) and globs on the local disk, and ``file://`` URLs.

    Args:
        source: A path, glob or ``file://`` URL; None for a source used only to read.
        label: The ``source`` of listed files; default: :func:`source_label`.
    """

    def __init__(self, source: str | None = None, label: str | None = None) -> None:
        self.source = source
        self.label = label

    def list(self) -> Iterator[ListedFile]:
        """Every file under the path, folder or glob; hidden folders are not entered."""
        if self.source is None:
            return
        label = self.label or source_label(self.source)
        path = _local_path(self.source)
        if glob.has_magic(path):
            matches = sorted(glob.glob(path, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no files match {self.source!r}")
        else:
            if not os.path.lexists(path):
                raise FileNotFoundError(f"source not found: {self.source}")
            matches = [path]
        seen_dirs: set[tuple[int, int]] = set()
        for match in matches:
            found = _walk(match, seen_dirs) if os.path.isdir(match) else _single(match)
            for listed in found:
                yield replace(listed, source=label)

    def read(self, rows: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
        """Read local files; see :meth:`Source.read`."""
        results = [
            _read_local(path, size, max_file_bytes)
            for path, size in zip(rows["path"].to_list(), rows["size_bytes"].to_list(), strict=True)
        ]
        return _row_results(rows, results)


def _read_local(path: str, size: int, max_file_bytes: int) -> Fetched:
    if size > max_file_bytes:
        return Fetched.failed(_too_large(size, max_file_bytes))
    location: str | bytes = unquote_to_bytes(urlsplit(path).path) if path.startswith("file://") else path
    try:
        with open(location, "rb") as handle:
            raw = handle.read(max_file_bytes + 1)
    except OSError as error:
        return Fetched.failed(f"unreadable: {error.strerror or error}")
    if len(raw) > max_file_bytes:
        return Fetched.failed(_grew(max_file_bytes))
    return Fetched.content(raw)


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


def http_date_ns(value: str | None) -> int | None:
    """An HTTP date (``Last-Modified``) in nanoseconds since the epoch, or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp()) * 1_000_000_000


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = http_date_ns(value)
    return None if when is None else max(0.0, when / 1e9 - time.time())


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_HOST_SLOTS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_HOST_SLOTS_LOCK = threading.Lock()


class HttpSource:
    """One ``http(s)://`` URL (an article page, a feed, any file) as one listed file.

    The listing makes no request: ``size_bytes`` is :data:`UNKNOWN_SIZE` and ``mtime_ns`` 0, so the diff
    calls a known URL ``touched`` and reading it decides. Reading sends ``If-None-Match`` /
    ``If-Modified-Since`` from the manifest when it holds the URL's content hash; a ``304`` comes back as
    ``change = 'touched'``, ``sha256 = known_sha256`` and no ``raw``, which the flow counts as unchanged.

    Args:
        url: The URL to list; None for a source used only to read.
        label: The ``source`` of the listed file; default: the URL's host.
        options: Timeouts, retries and concurrency.
        sleep: Waits between attempts (tests pass a recorder).
    """

    def __init__(
        self,
        url: str | None = None,
        label: str | None = None,
        options: HttpOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.label = label
        self.options = options or HttpOptions()
        self._sleep = sleep

    def list(self) -> Iterator[ListedFile]:
        """The URL itself, credentials removed from its ``uri``."""
        if self.url is None:
            return
        name = unquote(urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1])
        yield ListedFile(
            uri=redact_url(self.url),
            path=self.url,
            size_bytes=UNKNOWN_SIZE,
            mtime_ns=0,
            skip_reason=skip_reason_for(name) if name else None,
            source=self.label or source_label(self.url),
        )

    def read(self, rows: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
        """Fetch every row's URL, a bounded number at a time; see :meth:`Source.read`."""
        if rows.is_empty():
            return _row_results(rows, [])
        options = self.options
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=options.max_redirects,
                timeout=httpx.Timeout(options.timeout),
                headers={"User-Agent": options.user_agent},
                limits=httpx.Limits(max_connections=options.concurrency),
            ) as client,
            ThreadPoolExecutor(max_workers=max(1, min(options.concurrency, rows.height))) as pool,
        ):
            results = list(
                pool.map(lambda row: self._fetch(client, row, max_file_bytes), rows.iter_rows(named=True))
            )
        return _row_results(rows, results)

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        host = urlsplit(url).netloc.rsplit("@", 1)[-1].lower()
        key = (host, max(1, self.options.per_host))
        with _HOST_SLOTS_LOCK:
            if key not in _HOST_SLOTS:
                _HOST_SLOTS[key] = threading.BoundedSemaphore(key[1])
            return _HOST_SLOTS[key]

    def _fetch(self, client: httpx.Client, row: Mapping[str, Any], max_file_bytes: int) -> Fetched:
        url: str = row["path"]
        shown = redact_url(url)
        headers = _validators(row)
        options = self.options
        attempts = options.retries + 1
        failure = ""
        for attempt in range(attempts):
            wait: float | None = None
            deadline = time.monotonic() + options.deadline
            try:
                with self._slot(url), client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES:
                        failure = f"HTTP {status} {response.reason_phrase} from {shown}"
                        wait = _retry_after_seconds(response.headers.get("Retry-After"))
                        if wait is not None and wait > options.max_backoff:
                            return Fetched.failed(f"{failure} (asked to retry after {wait:.0f} s)")
                    else:
                        return _response_result(response, row, shown, max_file_bytes, deadline)
            except httpx.TooManyRedirects:
                return Fetched.failed(f"too many redirects from {shown}")
            except httpx.UnsupportedProtocol as error:
                return Fetched.failed(f"unsupported URL {shown}: {scrub(str(error), url)}")
            except _TooSlow:
                failure = f"took longer than {options.deadline:g} s fetching {shown}"
            except httpx.TimeoutException:
                failure = f"timed out after {options.timeout:g} s fetching {shown}"
            except httpx.DecodingError as error:
                return Fetched.failed(f"undecodable response from {shown}: {scrub(str(error), url)}")
            except httpx.TransportError as error:
                detail = scrub(str(error), url) or type(error).__name__
                failure = f"connection failed fetching {shown}: {detail}"
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                return Fetched.failed(f"could not fetch {shown}: {scrub(str(error), url)}")
            if attempt + 1 < attempts:
                pause = min(options.backoff * 2**attempt, options.max_backoff)
                self._sleep(max(pause, wait or 0.0) * (1 + random.random() / 10))
        suffix = f" after {attempts} attempts" if attempts > 1 else ""
        return Fetched.failed(failure + suffix)


def _validators(row: Mapping[str, Any]) -> dict[str, str]:
    """Conditional-GET headers, only when the manifest holds the content they stand for."""
    if row.get("known_sha256") is None:
        return {}
    headers = {}
    if row.get("known_etag"):
        headers["If-None-Match"] = row["known_etag"]
    if row.get("known_last_modified"):
        headers["If-Modified-Since"] = row["known_last_modified"]
    return headers


class _TooSlow(Exception):
    """An attempt ran past its deadline."""


def _response_result(
    response: httpx.Response, row: Mapping[str, Any], shown: str, max_file_bytes: int, deadline: float
) -> Fetched:
    status = response.status_code
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if status == 304:
        if row.get("known_sha256") is None:
            return Fetched.failed(f"HTTP 304 Not Modified from {shown} without a stored copy")
        return Fetched(
            sha256=row["known_sha256"],
            etag=etag or row.get("known_etag"),
            last_modified=last_modified or row.get("known_last_modified"),
            size_bytes=row.get("known_size"),
            mtime_ns=row.get("known_mtime"),
            change="touched",
        )
    if not 200 <= status < 300:
        return Fetched.failed(f"HTTP {status} {response.reason_phrase} from {shown}")
    declared = response.headers.get("Content-Length", "")
    plain = "Content-Encoding" not in response.headers
    if plain and declared.isdigit() and int(declared) > max_file_bytes:
        return Fetched.failed(f"{_too_large(int(declared), max_file_bytes)} at {shown}")
    body = bytearray()
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise _TooSlow
        body += chunk
        if len(body) > max_file_bytes:
            return Fetched.failed(f"response from {shown} larger than the {_megabytes(max_file_bytes)} limit")
    raw = bytes(body)
    return Fetched.content(
        raw,
        etag=etag,
        last_modified=last_modified,
        size_bytes=len(raw),
        mtime_ns=http_date_ns(last_modified) or 0,
    )


def storage_options_for(protocol: str, settings: object | None = None) -> dict[str, Any]:
    """fsspec options for ``protocol``; for S3, the endpoint of an S3-compatible store when one is set.

    Credentials are never passed here: boto's chain (``AWS_ACCESS_KEY_ID``..., ``AWS_PROFILE``, instance
    roles) finds them. The endpoint is the newsflow setting ``s3_endpoint_url``
    (``NEWSFLOW_S3_ENDPOINT_URL``), else ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``.
    """
    if protocol not in ("s3", "s3a"):
        return {}
    if settings is None:
        settings = _load_settings()
    endpoint = (
        getattr(settings, ENDPOINT_SETTING, None)
        or os.environ.get("NEWSFLOW_S3_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    return {"endpoint_url": endpoint} if endpoint else {}


def _info_mtime_ns(info: Mapping[str, Any]) -> int:
    for key in ("LastModified", "mtime", "last_modified", "updated", "timeCreated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int(stamp.timestamp() * 1_000_000) * 1000
        if isinstance(value, int | float):
            return int(value * 1_000_000) * 1000
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return _info_mtime_ns({"mtime": parsed})
    return 0


def _info_last_modified(info: Mapping[str, Any]) -> str | None:
    value = info.get("LastModified")
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        return format_datetime(stamp.astimezone(UTC), usegmt=True)
    return None


def _info_etag(info: Mapping[str, Any]) -> str | None:
    for key in ("ETag", "etag", "md5Hash"):
        value = info.get(key)
        if value:
            return str(value)
    return None


@dataclass
class FsspecSource:
    """An ``s3://bucket/prefix`` (or other fsspec URL: ``gs://``, ``memory://``, ...), listed recursively.

    The listing gives size, mtime (``LastModified``) and ``ETag``, so an unchanged object diffs as
    ``unchanged`` and is never read. Reading uses the filesystem's async ``cat_ranges`` with at most
    ``concurrency`` requests in flight.
    """

    url: str | None = None
    label: str | None = None
    protocol: str = ""
    storage_options: dict[str, Any] | None = None
    concurrency: int = 16
    _fs: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.protocol:
            if self.url is None:
                raise ValueError("FsspecSource needs a url or a protocol")
            self.protocol = scheme_of(self.url)

    def filesystem(self) -> Any:
        """The fsspec filesystem, made once per source (never from fsspec's instance cache)."""
        if self._fs is None:
            options = self.storage_options
            if options is None:
                options = storage_options_for(self.protocol)
            self._fs = fsspec.filesystem(self.protocol, skip_instance_cache=True, **options)
        return self._fs

    def list(self) -> Iterator[ListedFile]:
        """Every object under the prefix (or matching the glob); hidden folders are not entered."""
        if self.url is None:
            return
        fs = self.filesystem()
        shown = redact_url(self.url)
        root = fs._strip_protocol(self.url)
        try:
            if glob.has_magic(root):
                found, base = fs.glob(root, detail=True), _static_prefix(root)
            else:
                found, base = fs.find(root, detail=True), root
        except FileNotFoundError as error:
            raise FileNotFoundError(f"source not found: {shown} ({scrub(str(error), self.url)})") from None
        except PermissionError as error:
            raise PermissionError(f"access denied listing {shown} ({scrub(str(error), self.url)})") from None
        if not found and glob.has_magic(root):
            raise FileNotFoundError(f"no files match {shown!r}")
        label = self.label or self._label(found, root)
        for name in sorted(found):
            info = found[name]
            if info.get("type", "file") != "file":
                continue
            relative = name[len(base) :].strip("/") if name.startswith(base) else name
            folders, _, leaf = relative.rpartition("/")
            if any(part.startswith(".") for part in folders.split("/") if part):
                continue
            yield ListedFile(
                uri=redact_url(fs.unstrip_protocol(name)),
                path=fs.unstrip_protocol(name),
                size_bytes=int(info.get("size") or 0),
                mtime_ns=_info_mtime_ns(info),
                skip_reason=skip_reason_for(leaf or name.rsplit("/", 1)[-1]),
                source=label,
                etag=_info_etag(info),
                last_modified=_info_last_modified(info),
            )

    def _label(self, found: Mapping[str, Any], root: str) -> str:
        label = source_label(self.url or "")
        if list(found) == [root.rstrip("/")]:
            parent = root.rstrip("/").rsplit("/", 1)[0]
            return parent.rsplit("/", 1)[-1] or label
        return label

    def read(self, rows: pl.DataFrame, max_file_bytes: int) -> pl.DataFrame:
        """Read objects in one batched call; see :meth:`Source.read`."""
        results: list[Fetched | None] = [None] * rows.height
        wanted: list[int] = []
        for index, size in enumerate(rows["size_bytes"].to_list()):
            if size > max_file_bytes:
                results[index] = Fetched.failed(_too_large(size, max_file_bytes))
            else:
                wanted.append(index)
        if wanted:
            fs = self.filesystem()
            paths = rows["path"].to_list()
            shown = rows["uri"].to_list()
            stripped = [fs._strip_protocol(paths[i]) for i in wanted]
            extra = {"batch_size": self.concurrency} if getattr(fs, "async_impl", False) else {}
            bodies = fs.cat_ranges(stripped, 0, max_file_bytes + 1, on_error="return", **extra)
            for index, path, body in zip(wanted, stripped, bodies, strict=True):
                if _range_refused(body) and _is_empty(fs, path):
                    body = b""
                results[index] = _object_result(body, shown[index], paths[index], max_file_bytes)
        return _row_results(rows, [result or Fetched.failed("not read") for result in results])


def _range_refused(body: object) -> bool:
    return isinstance(body, OSError) and not isinstance(body, FileNotFoundError | PermissionError)


def _is_empty(fs: Any, path: str) -> bool:
    """Whether the object is empty (a ranged read of an empty S3 object fails with 416)."""
    try:
        return bool(fs.size(path) == 0)
    except Exception:
        return False


def _object_result(body: bytes | BaseException, shown: str, path: str, max_file_bytes: int) -> Fetched:
    if isinstance(body, FileNotFoundError):
        return Fetched.failed(f"unreadable: {shown} no longer exists")
    if isinstance(body, PermissionError):
        return Fetched.failed(f"unreadable: access denied to {shown}")
    if isinstance(body, BaseException):
        detail = scrub(str(body), path) or type(body).__name__
        return Fetched.failed(f"unreadable: {shown}: {detail}")
    if len(body) > max_file_bytes:
        return Fetched.failed(_grew(max_file_bytes))
    return Fetched.content(bytes(body))


def open_source(
    source: str,
    source_name: str | None = None,
    *,
    http: HttpOptions | None = None,
    storage_options: Mapping[str, dict[str, Any]] | None = None,
) -> Source:
    """The :class:`Source` for a SOURCE string, chosen by its scheme.

    Args:
        source: A path, folder, glob, ``file://``, ``http(s)://``, ``s3://`` or other fsspec URL.
        source_name: The ``source`` of every listed file; default: :func:`source_label`.
        http: Options for HTTP sources.
        storage_options: fsspec options per protocol (``{"s3": {"endpoint_url": ...}}``); default:
            :func:`storage_options_for`.

    Raises:
        ValueError: The scheme is neither local, HTTP nor a protocol fsspec knows.
    """
    scheme = scheme_of(source)
    if scheme in LOCAL_SCHEMES:
        return LocalSource(source, source_name)
    if scheme in HTTP_SCHEMES:
        return HttpSource(source, source_name, http)
    if scheme in fsspec.available_protocols():
        if "@" in source.split("://", 1)[1].split("/", 1)[0]:
            raise ValueError(
                f"credentials in {scheme}:// URLs are not accepted ({redact_url(source)}): "
                "use the environment (AWS_ACCESS_KEY_ID, ...) or a profile (AWS_PROFILE)"
            )
        options = (storage_options or {}).get(scheme)
        return FsspecSource(source, source_name, storage_options=options)
    raise ValueError(f"unsupported SOURCE {redact_url(source)!r}: unknown scheme {scheme}://")


def reader_for(
    scheme: str,
    *,
    http: HttpOptions | None = None,
    storage_options: Mapping[str, dict[str, Any]] | None = None,
) -> Source:
    """The :class:`Source` that reads listed rows whose ``uri`` has this scheme."""
    if scheme in LOCAL_SCHEMES:
        return LocalSource()
    if scheme in HTTP_SCHEMES:
        return HttpSource(options=http)
    return FsspecSource(protocol=scheme, storage_options=(storage_options or {}).get(scheme))


def list_sources(
    sources: Iterable[str],
    source_name: str | None = None,
    *,
    storage_options: Mapping[str, dict[str, Any]] | None = None,
) -> Iterator[ListedFile]:
    """Every file of every SOURCE, each ``uri`` once (the first SOURCE naming it wins)."""
    seen: set[str] = set()
    for source in sources:
        for listed in open_source(source, source_name, storage_options=storage_options).list():
            if listed.uri not in seen:
                seen.add(listed.uri)
                yield listed
