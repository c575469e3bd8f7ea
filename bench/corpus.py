"""Generated benchmark corpora: N copies of BBC with every body varied, so nothing is a duplicate."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime
from pathlib import Path

FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
SECONDS_PER_FILE = 142.0

FILLER = (
    "Analysts said the figures would be watched closely in the weeks ahead.",
    "Officials declined to comment on the details.",
    "The announcement came after months of speculation.",
    "Further details are expected to be published later this year.",
    "Critics said the move did not go far enough.",
    "Supporters welcomed the decision as overdue.",
)


def vary(text: str, copy: int, rng: random.Random) -> str:
    """The article with a varied body: a sentence added and numbers nudged, headline kept on line 1."""
    lines = text.split("\n")
    title, rest = lines[0], "\n".join(lines[1:])
    paragraphs = rest.strip("\n").split("\n\n")
    insert_at = rng.randrange(1, len(paragraphs) + 1) if paragraphs else 0
    paragraphs.insert(insert_at, f"{rng.choice(FILLER)} (Update {copy}.{rng.randrange(10_000)})")
    return f"{title}\n\n" + "\n\n".join(paragraphs) + "\n"


def build_corpus(
    bbc_dir: Path, target: Path, copies: int, seed: int = 7, first_copy: int = 0, limit: int | None = None
) -> int:
    """Write ``copies`` varied copies of every BBC article under ``target``; return the file count.

    Copies are numbered from ``first_copy``. The files' modification times (the publication time of
    undated text) rise by :data:`SECONDS_PER_FILE` per file from 2025-01-01, as a landing folder filled
    over time: 100 copies span a year, and copies with higher numbers are newer. ``limit`` caps the
    number of files written.
    """
    marker = target / f".complete-v2-{first_copy}-{copies}-{limit}"
    sources = sorted(p for p in bbc_dir.glob("*/*.txt"))
    total = len(sources) * copies if limit is None else min(limit, len(sources) * copies)
    if marker.exists():
        return total
    rng = random.Random(seed + first_copy)
    count = 0
    for copy in range(first_copy, first_copy + copies):
        for index, source in enumerate(sources):
            if count == total:
                break
            raw = source.read_bytes()
            try:
                text = raw.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
                encoding = "latin-1"
            out = target / f"copy{copy:03d}" / source.parent.name / source.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(vary(text, copy, rng).encode(encoding))
            moment = FIRST_DAY + (copy * len(sources) + index) * SECONDS_PER_FILE
            os.utime(out, (moment, moment))
            count += 1
    marker.touch()
    return count
