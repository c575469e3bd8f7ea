"""A generator of hostile landing files, and a runner that ingests them once and reports every status."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.reliability.crash_harness import NEWSFLOW, REPO_ROOT, sql

ARTICLE = (
    "Harbour cranes stand idle as dock strike enters third day\n\n"
    "ROTTERDAM, March 3 - Dock workers extended their strike on Monday, leaving container ships "
    "waiting offshore and freight companies counting the cost of the longest stoppage in a decade.\n\n"
    "Union leaders said talks with port operators would resume later in the week.\n"
)

RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(f'MAXRSS_KB={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.txt", b"0" * 50_000_000)
    return buffer.getvalue()


def _zip_slip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../x", ARTICLE)
        archive.writestr("/etc/evil", ARTICLE)
    return buffer.getvalue()


def hostile_files() -> dict[str, bytes]:
    """File name -> content of every hostile regular file."""
    laughs = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    feed_entries = "".join(
        f"<item><title>Entry {i}</title><link>https://example.org/{i}</link>"
        f"<description>Story number {i} about the harbour strike and its cost.</description></item>"
        for i in range(5000)
    )
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "whitespace.txt": b" \n\t\r\n   \n",
        "binary.txt": os.urandom(4096),
        "nul-bytes.txt": ARTICLE.encode().replace(b" ", b"\x00", 5),
        "utf16-no-bom.txt": ARTICLE.encode("utf-16-le"),
        "latin1-as-utf8.html": (
            b'<html><head><meta charset="utf-8"><title>Caf\xe9 cr\xe8me</title></head><body><p>'
            + ARTICLE.encode("latin-1").replace(b"Dock", b"D\xf6ck")
            + b"</p></body></html>"
        ),
        "latin1.json": json.dumps({"title": "Caf\xe9", "body": ARTICLE}, ensure_ascii=False).encode(
            "latin-1"
        ),
        "shift-jis.txt": ("港湾ストライキ三日目\n\n" + "東京 - 港湾労働者はストライキを続けた。" * 20).encode(
            "shift_jis"
        ),
        "invalid-utf8-middle.txt": ARTICLE.encode()[:120] + b"\xff\xfe\xc3\x28" + ARTICLE.encode()[120:],
        "truncated.txt.gz": gzip.compress(ARTICLE.encode() * 50)[:100],
        "bomb.zip": _zip_bomb(),
        "zip-slip.zip": _zip_slip(),
        "billion-laughs.xml": (
            laughs + "]>\n<rss><channel><item><title>&lol9;</title></item></channel></rss>"
        ).encode(),
        "deep.html": b"<html><body>"
        + b"<div>" * 100_000
        + b"deep text"
        + b"</div>" * 100_000
        + b"</body></html>",
        "big-feed.xml": (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
            + feed_entries
            + "</channel></rss>"
        ).encode(),
        "wrong-types.json": json.dumps(
            {"title": ["a", "list"], "body": 12345, "published": {"x": 1}}
        ).encode(),
        "broken-line.jsonl": (
            json.dumps({"title": "Good one", "body": ARTICLE})
            + "\n{not json\n"
            + json.dumps({"title": "Good two", "body": ARTICLE + " Second."})
            + "\n"
        ).encode(),
        "new\nline.txt": ("Newline name\n\n" + ARTICLE + "A").encode(),
        "quote'\"s.txt": ("Quotes name\n\n" + ARTICLE + "B").encode(),
        "'; DROP TABLE articles; --.txt": ("Injection name\n\n" + ARTICLE + "C").encode(),
        "growing.txt": ("Growing file\n\n" + ARTICLE).encode(),
        "good.txt": ARTICLE.encode(),
    }
    return files


NON_UTF8_NAME = b"caf\xe9-latin1-name.txt"


@dataclass
class HostileCorpus:
    """The folder and what it holds."""

    root: Path
    regular: list[Path]
    huge: Path


def build_hostile_corpus(root: Path, non_utf8_name: bool = True) -> HostileCorpus:
    """Write every hostile file, a sparse 11 MB file, a FIFO, symlink loops and a non-UTF-8 file name."""
    root.mkdir(parents=True, exist_ok=True)
    regular = []
    for name, content in hostile_files().items():
        path = root / name
        path.write_bytes(content)
        regular.append(path)
    huge = root / "huge.txt"
    with huge.open("wb") as handle:
        handle.write(ARTICLE.encode())
        handle.truncate(11 * 1024 * 1024)
    regular.append(huge)
    if non_utf8_name:
        raw_name = os.path.join(os.fsencode(root), NON_UTF8_NAME)
        with open(raw_name, "wb") as handle:
            handle.write(("Latin-1 name\n\n" + ARTICLE + "D").encode())
        regular.append(Path(os.fsdecode(raw_name)))
    os.mkfifo(root / "unreadable-fifo.txt")
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "up")
    os.symlink("self-loop.txt", root / "self-loop.txt")
    return HostileCorpus(root, regular, huge)


def _append_while_running(path: Path, stop: threading.Event) -> None:
    with path.open("a") as handle:
        while not stop.is_set():
            handle.write("More text appended while the run reads.\n")
            handle.flush()
            time.sleep(0.01)


@dataclass
class HostileRun:
    """One ingest of the hostile corpus, and a second one."""

    returncode: int
    stderr: str
    summary: dict[str, Any]
    second: dict[str, Any]
    max_rss_kb: int
    statuses: dict[str, int]
    rows: list[tuple[Any, ...]]
    files_expected: int
    files_recorded: int
    seconds: float

    @property
    def ok(self) -> bool:
        """Exit 0, bounded memory, every file recorded with a valid status and a reason when not ingested."""
        return (
            self.returncode == 0
            and self.max_rss_kb < 1_500_000
            and self.files_recorded >= self.files_expected
            and all(s in ("ingested", "duplicate", "quarantined", "skipped") for s in self.statuses)
            and all(reason for _uri, status, reason in self.rows if status in ("quarantined", "skipped"))
        )

    def lines(self) -> list[str]:
        """The figure to print."""
        out = [
            f"exit {self.returncode} in {self.seconds:.1f} s, peak RSS {self.max_rss_kb / 1024:.0f} MB, "
            f"files recorded {self.files_recorded} of {self.files_expected}, second run files_new "
            f"{self.second.get('files_new')}",
            "statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())),
        ]
        out += [f"  {status:11s} {reason or '':45.45s} {uri[-60:]!r}" for uri, status, reason in self.rows]
        return out


def run_hostile_corpus(
    work: Path, env: dict[str, str], timeout: float = 600.0, non_utf8_name: bool = True
) -> HostileRun:
    """Build the hostile corpus in ``work``, ingest it once (a file growing meanwhile), then once more."""
    corpus = build_hostile_corpus(work / "hostile", non_utf8_name)
    data_dir = work / "data"
    command = [sys.executable, "-c", RSS_WRAPPER, NEWSFLOW, "ingest", str(corpus.root)]
    command += ["--data-dir", str(data_dir), "--json", "--batch-size", "10"]
    stop = threading.Event()
    grower = threading.Thread(target=_append_while_running, args=(corpus.root / "growing.txt", stop))
    grower.start()
    started = time.monotonic()
    try:
        first = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO_ROOT
        )
    finally:
        stop.set()
        grower.join()
    seconds = time.monotonic() - started
    rss = max(
        (int(line.split("=")[1]) for line in first.stderr.splitlines() if line.startswith("MAXRSS_KB=")),
        default=0,
    )
    summary = _last_json(first.stdout)
    second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=REPO_ROOT)
    rows: list[tuple[Any, ...]] = []
    statuses: dict[str, int] = {}
    recorded = 0
    if (data_dir / "catalog.sqlite").is_file():
        rows = sql(
            data_dir,
            "SELECT file_uri, status, reason FROM ingested_files "
            "QUALIFY row_number() OVER (PARTITION BY record_key ORDER BY seen_at DESC) = 1 ORDER BY file_uri",
        )
        for _uri, status, _reason in rows:
            statuses[status] = statuses.get(status, 0) + 1
        recorded = len({uri for uri, _s, _r in rows})
    return HostileRun(
        first.returncode,
        first.stderr,
        summary,
        _last_json(second.stdout),
        rss,
        statuses,
        [r for r in rows if "big-feed" not in str(r[0]) or r[1] != "ingested"],
        len(corpus.regular),
        recorded,
        seconds,
    )


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    return {}
