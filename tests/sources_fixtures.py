"""Servers on 127.0.0.1 for source tests: an HTTP server with validators and failure modes, and moto's S3.

Two ways to use it. A test module that needs only the fixtures declares
``pytest_plugins = ["tests.sources_fixtures"]`` and gets ``http_server`` (a :class:`TestHttpServer`),
``corpus_http`` (the same serving the shared corpus), ``moto_endpoint`` (a session-wide moto S3 server)
and ``s3_env`` (dummy credentials and that endpoint in the environment). A module that also imports
helpers from here (``new_bucket``, the constants) defines its fixtures with :func:`serving_http`,
:func:`moto_s3` and :func:`use_s3_endpoint` instead, since pytest cannot assert-rewrite a plugin module
imported before it is registered.

Routes of :class:`TestHttpServer`:

- ``/files/<rel>``: files under ``root``; ``/pages/<name>``: ``pages[name]`` (tests may change it).
  Both send ``ETag`` and ``Last-Modified`` and answer ``If-None-Match`` / ``If-Modified-Since`` with 304.
- ``/gzip/<name>``: ``pages[name]`` with ``Content-Encoding: gzip``.
- ``/redirect/<name>``: 302 to ``/pages/<name>``.
- ``/flaky/<name>``: 500 for the first ``fail_times`` requests per name, then ``pages[name]``.
- ``/limited/<name>``: 429 with ``Retry-After: 0`` once per name, then ``pages[name]``.
- ``/slow/<name>``: waits ``slow_seconds`` before answering ``pages[name]``.
- ``/trickle/<name>``: sends ``pages[name]`` a byte at a time over ``slow_seconds``.
- ``/private/<name>``: ``pages[name]`` for Basic auth ``reader:s3cret-pass``, else 401.
- ``/status/<code>``: that status; ``/retry-after/<seconds>``: 503 with that ``Retry-After``.
- Anything else: 404.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import mimetypes
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

PRIVATE_USER = "reader"
PRIVATE_PASSWORD = "s3cret-pass"
DUMMY_KEY_ID = "AKIDNEWSFLOWTEST0001"
DUMMY_SECRET = "dummy-secret-key-never-recorded"


@dataclass
class Page:
    """A served body with its validators."""

    body: bytes
    mtime: float = field(default_factory=lambda: time.time() - 3600)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    status: int


class TestHttpServer:
    """A threaded HTTP server on 127.0.0.1 that records every request it answers."""

    __test__ = False

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self.pages: dict[str, Page] = {}
        self.fail_times = 2
        self.slow_seconds = 2.0
        self.requests: list[RecordedRequest] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """The absolute URL of a route, e.g. ``url("/pages/a.txt")``."""
        return self.base_url + path

    def page(self, name: str, body: bytes, mtime: float | None = None) -> str:
        """Serve ``body`` at ``/pages/<name>``; returns its URL."""
        self.pages[name] = Page(body) if mtime is None else Page(body, mtime)
        return self.url(f"/pages/{name}")

    def hits(self, prefix: str) -> list[RecordedRequest]:
        """Requests whose path starts with ``prefix``."""
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def count(self, key: str) -> int:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> TestHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: TestHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            try:
                self._route()
            except (BrokenPipeError, ConnectionResetError):
                return

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, record: bool = True
        ) -> None:
            if record:
                server.record(RecordedRequest(self.path, dict(self.headers.items()), status))
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _page(self, page: Page, content_type: str, encode: bool = False) -> None:
            validators = {"ETag": page.etag, "Last-Modified": formatdate(page.mtime, usegmt=True)}
            if self._not_modified(page):
                self._send(304, headers=validators)
                return
            body = gzip.compress(page.body) if encode else page.body
            headers = {**validators, "Content-Type": content_type}
            if encode:
                headers["Content-Encoding"] = "gzip"
            self._send(200, body, headers)

        def _not_modified(self, page: Page) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:
                return page.etag in [tag.strip() for tag in match.split(",")]
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return int(page.mtime) <= parsedate_to_datetime(since).timestamp()
                except (TypeError, ValueError):
                    return False
            return False

        def _named(self, name: str) -> Page | None:
            return server.pages.get(name)

        def _route(self) -> None:
            _, route, rest = self.path.split("/", 2) if self.path.count("/") >= 2 else ("", self.path, "")
            name = rest.split("?", 1)[0]
            page = self._named(name)
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if route == "files" and server.root is not None:
                path = (server.root / name).resolve()
                if server.root.resolve() in path.parents and path.is_file():
                    self._page(Page(path.read_bytes(), path.stat().st_mtime), kind)
                    return
            elif route == "status" and name.isdigit():
                self._send(int(name), HTTPStatus(int(name)).phrase.encode())
                return
            elif route == "retry-after" and name.isdigit():
                self._send(503, b"come back later", {"Retry-After": name})
                return
            elif page is None:
                pass
            elif route == "pages":
                self._page(page, kind)
                return
            elif route == "gzip":
                self._page(page, kind, encode=True)
                return
            elif route == "redirect":
                self._send(302, headers={"Location": f"/pages/{name}"})
                return
            elif route == "flaky":
                if server.count(self.path) <= server.fail_times:
                    self._send(500, b"try again")
                    return
                self._page(page, kind)
                return
            elif route == "limited":
                if server.count(self.path) <= 1:
                    self._send(429, b"slow down", {"Retry-After": "0"})
                    return
                self._page(page, kind)
                return
            elif route == "slow":
                time.sleep(server.slow_seconds)
                self._page(page, kind)
                return
            elif route == "trickle":
                server.record(RecordedRequest(self.path, dict(self.headers.items()), 200))
                self.send_response(200)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                for offset in range(len(page.body)):
                    self.wfile.write(page.body[offset : offset + 1])
                    self.wfile.flush()
                    time.sleep(server.slow_seconds / max(1, len(page.body)))
                return
            elif route == "private":
                expected = base64.b64encode(f"{PRIVATE_USER}:{PRIVATE_PASSWORD}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._send(401, b"who are you", {"WWW-Authenticate": 'Basic realm="news"'})
                    return
                self._page(page, kind)
                return
            self._send(404, b"not here")

    return Handler


@contextmanager
def serving_http(root: Path | None = None) -> Iterator[TestHttpServer]:
    """A :class:`TestHttpServer` on 127.0.0.1 (serving ``root`` at ``/files/``), stopped on exit."""
    server = TestHttpServer(root).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1; yields its endpoint URL, stops it on exit."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def use_s3_endpoint(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> str:
    """Dummy AWS credentials and ``endpoint`` in the environment, nothing else of the caller's ``AWS_*``."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return endpoint


@pytest.fixture
def http_server() -> Iterator[TestHttpServer]:
    """A fresh :class:`TestHttpServer` on 127.0.0.1, stopped after the test."""
    with serving_http() as server:
        yield server


@pytest.fixture
def corpus_http(http_server: TestHttpServer, corpus_dir: Path) -> TestHttpServer:
    """The test HTTP server serving the shared corpus at ``/files/<path under the corpus>``."""
    http_server.root = corpus_dir
    return http_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 for the whole session; its endpoint URL."""
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Dummy AWS credentials and the moto endpoint in the environment; returns the endpoint URL."""
    return use_s3_endpoint(monkeypatch, moto_endpoint)


def new_bucket(files: dict[str, bytes]) -> str:
    """A new uniquely named bucket holding ``files`` (key -> bytes), made through the endpoint in the
    environment (use after ``s3_env``); returns the bucket name."""
    import uuid

    import s3fs

    bucket = f"newsflow-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir(bucket)
    if files:
        fs.pipe({f"{bucket}/{key}": body for key, body in files.items()})
    return bucket
