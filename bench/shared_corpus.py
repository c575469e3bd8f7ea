"""Where the shared corpus is and how its plain-text stories are read (evaluations, bench and tests)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_corpus() -> Path:
    """``NEWSFLOW_CORPUS``, else ``../shared/corpus`` beside the repository."""
    return Path(os.environ.get("NEWSFLOW_CORPUS", REPO_ROOT.parent / "shared" / "corpus")).resolve()


def story_paragraphs(path: Path) -> tuple[str, list[str]]:
    """A story file's headline (its first line) and its body's paragraphs.

    Files are UTF-8, or Latin-1 when they do not decode as UTF-8 (some BBC files); each paragraph's
    whitespace is collapsed to single spaces.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    title, _, rest = text.partition("\n")
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", rest.strip()) if part.strip()]
    return title.strip(), paragraphs


def read_story(path: Path) -> tuple[str, str]:
    """A story file's headline and body, its paragraphs joined by blank lines (:func:`story_paragraphs`)."""
    title, paragraphs = story_paragraphs(path)
    return title, "\n\n".join(paragraphs)


def reuters_gold(corpus: Path) -> list[dict[str, object]]:
    """The gold records of ``reuters_dev`` (see its README), exact duplicates left out."""
    lines = (corpus / "reuters_dev" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    gold = [json.loads(line) for line in lines]
    return [record for record in gold if not str(record["kind"]).startswith("duplicate_of")]


def reuters_story_path(corpus: Path, record: dict[str, object]) -> Path:
    """The file of the ``reuters_dev`` story a gold record describes."""
    return corpus / "reuters_dev" / "files" / str(record["path"])


def bbc_story_paths(corpus: Path) -> list[Path]:
    """The BBC News stories' files, category by category, in name order."""
    return sorted((corpus / "bbc_news_fulltext").glob("*/*.txt"))
