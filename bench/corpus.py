"""Generated benchmark corpora: N copies of BBC with every body varied, so nothing is a duplicate."""

from __future__ import annotations

import random
from pathlib import Path

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


def build_corpus(bbc_dir: Path, target: Path, copies: int, seed: int = 7) -> int:
    """Write ``copies`` varied copies of every BBC article under ``target``; return the file count."""
    marker = target / f".complete-{copies}"
    sources = sorted(p for p in bbc_dir.glob("*/*.txt"))
    if marker.exists():
        return len(sources) * copies
    rng = random.Random(seed)
    count = 0
    for copy in range(copies):
        for source in sources:
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
            count += 1
    marker.touch()
    return count
