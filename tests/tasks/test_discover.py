from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from tasks.discover import diff_listing, discover_local, skip_reason_for, source_label


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("story.txt", None),
        (".hidden.txt", "hidden file"),
        ("story.txt.part", "partial or temporary download (.part)"),
        ("story.tmp", "partial or temporary download (.tmp)"),
        ("story.txt.crdownload", "partial or temporary download (.crdownload)"),
        ("story.txt~", "partial or temporary download (~)"),
        ("README.md", "documentation file, not an article"),
        ("Thumbs.db", "operating-system file"),
    ],
)
def test_skip_reason_for(name: str, expected: str | None) -> None:
    assert skip_reason_for(name) == expected


def _write(path: Path, text: str = "Title\n\nBody.\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_discover_walks_folders_skips_partials_and_survives_symlink_loops(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    _write(landing / "a.txt")
    _write(landing / "sub" / "b.txt")
    _write(landing / "sub" / "c.txt.part")
    _write(landing / ".git" / "config")
    (landing / "sub" / "loop").symlink_to(landing, target_is_directory=True)
    (landing / "dangling.txt").symlink_to(tmp_path / "missing.txt")

    listing = discover_local([str(landing)])

    by_name = {Path(path).name: reason for path, reason in listing.select("path", "skip_reason").iter_rows()}
    assert by_name == {
        "a.txt": None,
        "b.txt": None,
        "c.txt.part": "partial or temporary download (.part)",
        "dangling.txt": "broken symlink",
    }
    assert set(listing["source"]) == {"landing"}


def test_discover_globs_and_single_files_each_once(tmp_path: Path) -> None:
    first = _write(tmp_path / "in" / "a.txt")
    _write(tmp_path / "in" / "b.txt")
    listing = discover_local([str(first), str(tmp_path / "in" / "*.txt")], source_name="wire")
    assert listing["uri"].to_list() == [first.as_uri(), (tmp_path / "in" / "b.txt").as_uri()]
    assert set(listing["source"]) == {"wire"}


def test_discover_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="source not found"):
        discover_local([str(tmp_path / "nowhere")])


def test_discover_reports_unreadable_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    _write(locked / "a.txt")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    listing = discover_local([str(tmp_path)])
    assert listing.select("path", "skip_reason").rows() == [(str(locked), "unreadable: Permission denied")]


@pytest.mark.parametrize(
    ("size", "mtime", "expected"),
    [(10, 100, "unchanged"), (10, 200, "touched"), (11, 100, "changed"), (11, 200, "changed")],
)
def test_diff_listing(size: int, mtime: int, expected: str) -> None:
    listing = pl.DataFrame(
        {
            "uri": ["file:///a", "file:///new"],
            "path": ["/a", "/new"],
            "size_bytes": [size, 5],
            "mtime_ns": [mtime, 1],
        }
    )
    manifest = pl.DataFrame(
        {"file_uri": ["file:///a"], "size_bytes": [10], "mtime_ns": [100], "sha256": ["h"]}
    )
    assert diff_listing(listing, manifest)["change"].to_list() == [expected, "new"]


@pytest.mark.parametrize(
    ("source", "label"),
    [("/x/bbc", "bbc"), ("/x/bbc/", "bbc"), ("/x/bbc/*/*.txt", "bbc"), ("file:///x/wire", "wire")],
)
def test_source_label(source: str, label: str) -> None:
    assert source_label(source) == label


def test_diff_listing_touches_known_files_of_unknown_size_and_carries_validators() -> None:
    listing = pl.DataFrame(
        {
            "uri": ["https://x/feed", "https://x/other", "https://x/new"],
            "path": ["https://x/feed", "https://x/other", "https://x/new"],
            "size_bytes": [-1, -1, -1],
            "mtime_ns": [0, 0, 0],
        }
    )
    manifest = pl.DataFrame(
        {
            "file_uri": ["https://x/feed", "https://x/other"],
            "size_bytes": [1200, -1],
            "mtime_ns": [5, 0],
            "sha256": ["h1", None],
            "etag": ['"v1"', None],
            "last_modified": ["Mon, 01 Jan 2024 00:00:00 GMT", None],
        }
    )
    diffed = diff_listing(listing, manifest)
    assert diffed["change"].to_list() == ["touched", "touched", "new"]
    assert diffed.select("known_sha256", "known_etag", "known_last_modified", "known_size").row(0) == (
        "h1",
        '"v1"',
        "Mon, 01 Jan 2024 00:00:00 GMT",
        1200,
    )


def test_discover_lists_urls_and_local_files_together(tmp_path: Path) -> None:
    story = _write(tmp_path / "wire" / "a.txt")
    listing = discover_local([str(story), "https://news.example.com/rss", str(story)])
    assert listing.select("uri", "size_bytes", "source").rows() == [
        (story.as_uri(), story.stat().st_size, "wire"),
        ("https://news.example.com/rss", -1, "news.example.com"),
    ]
    assert listing.columns == [
        "uri",
        "path",
        "size_bytes",
        "mtime_ns",
        "skip_reason",
        "source",
        "etag",
        "last_modified",
    ]


def test_discover_refuses_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="unknown scheme"):
        discover_local(["gopher2://example.com/news"])
