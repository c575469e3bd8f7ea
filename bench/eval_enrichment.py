"""Evaluates the enrichment steps: near-duplicate grouping, dateline dates, and throughput of each step.

Run as ``.venv/bin/python -m bench.eval_enrichment [--corpus PATH] [--copies N] [--runs R]``. The corpus
defaults to ``NEWSFLOW_CORPUS``, else ``../shared/corpus`` beside the repository.

Near duplicates, planted: BBC stories (exact copies left out) and variants of ``--planted`` of them made
with a seeded RNG, each variant getting one to three edits of the kinds a newsroom makes (headline
rewritten, a sentence changed, added or removed, a correction line on top, figures or days changed, the
last paragraph cut, an agency credit and trailer added). Recall is the share of variants that share a
story id with their original. Distinct stories are the BBC stories with no other story within word 5-gram
Jaccard ``0.3`` or containment ``0.5`` (computed exactly, here); the false-grouping rate is the share of
them whose story id is shared with another distinct story. Both are measured with all articles in one
batch, and with the originals stored first and the variants matched against them.

Near duplicates, Reuters: the 36 ``near_duplicate_of`` pairs of ``reuters_dev/gold.jsonl`` that share a
story id, and the pairs sharing a story id that gold does not mark (exact copies left out, as ingest drops
them); those are listed with their exact 5-gram Jaccard and containment, as many are re-sent or updated
versions of one story that gold's Jaccard >= 0.8 rule did not mark.

Throughput: articles per second of each function on BBC repeated ``--copies`` times, every copy with its own
last line so that none is an exact duplicate (median of ``--runs``). ``assign_story_ids`` is timed on
signatures of BBC plus the planted variants repeated likewise, so every story has ``2 * copies - 1`` or
``copies - 1`` near duplicates: a worst case.
"""

from __future__ import annotations

import argparse
import itertools
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from bench.shared_corpus import bbc_story_paths, default_corpus, read_story, reuters_gold, reuters_story_path
from tasks.dates import resolve_published_at
from tasks.keywords import extract_keywords
from tasks.near_duplicates import (
    assign_story_ids,
    compute_signatures,
    sketch_rows,
    stored_candidates,
    stories_and_sketches,
)
from tasks.text_tokens import text_tokens
from tasks.tone import score_tone

SHINGLE_WORDS = 5
RELATED_JACCARD = 0.3
RELATED_CONTAINMENT = 0.5
GOLD_NEAR_JACCARD = 0.8

_DATELINE_RE = re.compile(
    r"^(?P<place>[A-Z][^\n]{0,60}?),\s+(?P<date>[A-Za-z]{3,9}\.?\s+\d{1,2})\s+-\s+", re.DOTALL
)
_WORD_RE = re.compile(r"\w+(?:[.,'’/-]\w+)*")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'‘“])")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CORRECTIONS = (
    "Correction: an earlier version of this story gave a wrong figure.",
    "This story has been updated to correct the spelling of a name.",
    "UPDATED: adds reaction in paragraphs four and five.",
)
_AGENCY_CREDITS = ("LONDON (Reuters) - ", "(AP) ", "By our correspondent. ")
_TRAILERS = ("Copyright 2005 BBC. All rights reserved.", "Reporting by staff; editing by the desk.")
_HEADLINE_WORDS = ("new", "fresh", "latest", "UK", "big")
_HEADLINE_TAGS = ("", " - update", " (corrected)", " - report")

ARTICLE_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "title": pl.String(),
    "body": pl.String(),
    "language": pl.String(),
    "published_at": pl.Datetime("us"),
    "published_at_source": pl.String(),
    "dateline_date": pl.String(),
    "file_mtime": pl.Datetime("us"),
}


def _articles(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ARTICLE_SCHEMA)


def bbc_articles(corpus: Path) -> pl.DataFrame:
    """The BBC stories as cleaned articles, exact copies left out.

    Args:
        corpus: the shared corpus folder.

    Returns:
        Articles (:data:`ARTICLE_SCHEMA`) with ``article_id = category/NNN.txt``; no dates.
    """
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for path in bbc_story_paths(corpus):
        title, body = read_story(path)
        if (title, body) in seen:
            continue
        seen.add((title, body))
        rows.append(
            {
                "article_id": f"{path.parent.name}/{path.name}",
                "title": title,
                "body": body,
                "language": "en",
            }
        )
    return _articles(rows)


def reuters_articles(corpus: Path) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    """The reuters_dev stories as cleaned articles, exact copies left out, and their gold records.

    Args:
        corpus: the shared corpus folder.

    Returns:
        Articles (:data:`ARTICLE_SCHEMA`, ``article_id = NEWID.txt``) whose dateline came off the body into
        ``dateline_date`` and whose ``file_mtime`` is the wire time of gold ``date``, as if each story had
        landed when it ran; and the gold records of those stories.
    """
    gold = reuters_gold(corpus)
    rows: list[dict[str, object]] = []
    for record in gold:
        title, body = read_story(reuters_story_path(corpus, record))
        dateline = _DATELINE_RE.match(body)
        rows.append(
            {
                "article_id": str(record["path"]),
                "title": title,
                "body": body[dateline.end() :] if dateline else body,
                "language": "en",
                "dateline_date": dateline.group("date") if dateline else None,
                "file_mtime": datetime.fromisoformat(str(record["date"])),
            }
        )
    return _articles(rows), gold


def shingles(title: str | None, body: str | None, dateline_date: str | None = None) -> set[str]:
    """Word 5-grams of the dateline date, title and body, lower case: the exact sets the sketches sample.

    Args:
        title: headline.
        body: story text.
        dateline_date: dateline date as written.

    Returns:
        The distinct shingles, words joined by spaces.
    """
    words = _WORD_RE.findall("\n".join(part for part in (dateline_date, title, body) if part).lower())
    return {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)}


def related_pairs(
    frame: pl.DataFrame, min_jaccard: float, min_containment: float
) -> dict[tuple[str, str], tuple[float, float]]:
    """Exact word 5-gram similarity of the article pairs reaching either threshold (an inverted index).

    Args:
        frame: articles with ``article_id``, ``title``, ``body`` (and ``dateline_date``).
        min_jaccard: keep pairs with at least this Jaccard similarity...
        min_containment: ...or at least this share of the shorter text's shingles in the longer one.

    Returns:
        ``(jaccard, containment)`` by ``(article_id, article_id)`` in sorted order; shingles shared by more
        than 500 articles are ignored.
    """
    sets = {
        row["article_id"]: shingles(row["title"], row["body"], row.get("dateline_date"))
        for row in frame.iter_rows(named=True)
    }
    postings: dict[str, list[str]] = defaultdict(list)
    for article_id, grams in sets.items():
        for gram in grams:
            postings[gram].append(article_id)
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for ids in postings.values():
        if 1 < len(ids) <= 500:
            for pair in itertools.combinations(sorted(ids), 2):
                shared[pair] += 1
    found = {}
    for (a, b), common in shared.items():
        size_a, size_b = len(sets[a]), len(sets[b])
        jaccard = common / (size_a + size_b - common)
        containment = common / min(size_a, size_b)
        if jaccard >= min_jaccard or containment >= min_containment:
            found[(a, b)] = (jaccard, containment)
    return found


def _sentences(body: str) -> list[list[str]]:
    return [_SENTENCE_RE.split(paragraph) for paragraph in body.split("\n\n")]


def _joined(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(sentences) for sentences in paragraphs if sentences)


def _edit_headline(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    words = title.split()
    words[rng.randrange(len(words))] = rng.choice(_HEADLINE_WORDS)
    return " ".join(words) + rng.choice(_HEADLINE_TAGS), body


def _change_sentence(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    paragraphs = _sentences(body)
    paragraph = rng.randrange(len(paragraphs))
    paragraphs[paragraph][rng.randrange(len(paragraphs[paragraph]))] = rng.choice(donors)
    return title, _joined(paragraphs)


def _add_sentence(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    paragraphs = _sentences(body)
    paragraph = rng.randrange(len(paragraphs))
    paragraphs[paragraph].insert(rng.randrange(len(paragraphs[paragraph]) + 1), rng.choice(donors))
    return title, _joined(paragraphs)


def _remove_sentences(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    paragraphs = _sentences(body)
    for _ in range(rng.randint(1, 2)):
        candidates = [i for i, sentences in enumerate(paragraphs) if len(sentences) > 1]
        if not candidates:
            break
        paragraph = rng.choice(candidates)
        del paragraphs[paragraph][rng.randrange(len(paragraphs[paragraph]))]
    return title, _joined(paragraphs)


def _correction_line(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    return title, f"{rng.choice(_CORRECTIONS)}\n\n{body}"


def _change_figures(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    numbers = list(_NUMBER_RE.finditer(body))
    if not numbers:
        days = [day for day in _WEEKDAYS if day in body]
        if days:
            return title, body.replace(rng.choice(days), rng.choice(_WEEKDAYS), 1)
        return title, body
    chosen = set(rng.sample(range(len(numbers)), min(len(numbers), rng.randint(1, 3))))
    pieces, last = [], 0
    for i, match in enumerate(numbers):
        if i in chosen:
            pieces += [body[last : match.start()], str(rng.randint(2, 999))]
            last = match.end()
    pieces.append(body[last:])
    return title, "".join(pieces)


def _cut_last_paragraph(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    paragraphs = body.split("\n\n")
    return title, "\n\n".join(paragraphs[:-1]) if len(paragraphs) > 2 else body


def _syndicate(rng: random.Random, title: str, body: str, donors: list[str]) -> tuple[str, str]:
    return title, f"{rng.choice(_AGENCY_CREDITS)}{body}\n\n{rng.choice(_TRAILERS)}"


EDITS: dict[str, Callable[[random.Random, str, str, list[str]], tuple[str, str]]] = {
    "headline": _edit_headline,
    "change_sentence": _change_sentence,
    "add_sentence": _add_sentence,
    "remove_sentences": _remove_sentences,
    "correction_line": _correction_line,
    "figures": _change_figures,
    "cut_last_paragraph": _cut_last_paragraph,
    "syndicate": _syndicate,
}
"""Planted edits, by name: each takes the RNG, title, body and donor sentences and returns title and body."""


def plant_variants(originals: pl.DataFrame, count: int, seed: int, max_edits: int = 3) -> pl.DataFrame:
    """Near-duplicate variants of ``count`` randomly chosen originals, one to ``max_edits`` edits each.

    Args:
        originals: articles to copy (sentences added or swapped in come from 300 of them).
        count: variants to make, each of a different original.
        seed: seed of the RNG that picks originals, edits and their details.
        max_edits: most edits applied to one variant.

    Returns:
        Articles (:data:`ARTICLE_SCHEMA`) with ``article_id = planted/<n>``, plus ``original_id`` and
        ``edits`` (comma-separated edit names).
    """
    rng = random.Random(seed)
    rows = originals.select("article_id", "title", "body").rows()
    donors = [
        sentence
        for _, _, body in rng.sample(rows, min(300, len(rows)))
        for paragraph in _sentences(body)
        for sentence in paragraph
        if len(sentence.split()) > 6
    ]
    variants = []
    for number, (article_id, title, body) in enumerate(rng.sample(rows, count)):
        names = rng.sample(sorted(EDITS), rng.randint(1, max_edits))
        for name in names:
            title, body = EDITS[name](rng, title, body, donors)
        variants.append(
            {
                "article_id": f"planted/{number}",
                "title": title,
                "body": body,
                "language": "en",
                "original_id": article_id,
                "edits": ",".join(names),
            }
        )
    return pl.DataFrame(variants, schema={**ARTICLE_SCHEMA, "original_id": pl.String(), "edits": pl.String()})


def distinct_story_ids(originals: pl.DataFrame) -> set[str]:
    """Articles that are distinct stories: no other within the ``RELATED_*`` similarities.

    Args:
        originals: articles, exact copies left out.

    Returns:
        ``article_id`` of each article with no other within ``RELATED_JACCARD`` Jaccard or
        ``RELATED_CONTAINMENT`` containment.
    """
    related = related_pairs(originals, RELATED_JACCARD, RELATED_CONTAINMENT)
    touched = {article_id for pair in related for article_id in pair}
    return set(originals["article_id"].to_list()) - touched


@dataclass
class PlantedResult:
    """Planted near-duplicate figures."""

    variants: int
    recovered: int
    distinct: int
    wrongly_grouped: int
    missed: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of variants that share a story id with their original."""
        return self.recovered / self.variants

    @property
    def false_grouping(self) -> float:
        """Share of distinct stories whose story id another distinct story shares."""
        return self.wrongly_grouped / self.distinct


def story_ids_in_one_batch(articles: pl.DataFrame) -> dict[str, str]:
    """Story ids with all articles signed and assigned in one batch.

    Args:
        articles: articles to group.

    Returns:
        ``article_id -> story_id``.
    """
    return dict(assign_story_ids(compute_signatures(articles)).iter_rows())


def story_ids_incrementally(stored: pl.DataFrame, arriving: pl.DataFrame) -> dict[str, str]:
    """Story ids with ``stored`` assigned and kept as signature rows first, then ``arriving`` against them.

    Args:
        stored: articles of an earlier run.
        arriving: articles of the next run.

    Returns:
        ``article_id -> story_id`` for both.
    """
    stored_signatures = compute_signatures(stored)
    stored_ids = assign_story_ids(stored_signatures)
    rows = sketch_rows(stored_signatures, stored_ids)
    arriving_ids = assign_story_ids(compute_signatures(arriving), rows)
    return dict(pl.concat([stored_ids, arriving_ids]).iter_rows())


def story_ids_in_runs(runs: list[pl.DataFrame], *, skip_repeats: bool) -> dict[str, str]:
    """Story ids with each run assigned against the sketches the runs before it stored, as the flow does.

    Args:
        runs: the articles of each run, in order.
        skip_repeats: store no anchors for repeats (:func:`tasks.near_duplicates.repeated_articles`), as
            the flow does; False anchors every article.

    Returns:
        ``article_id -> story_id`` for every run's articles.
    """
    stored: pl.DataFrame | None = None
    story_ids: dict[str, str] = {}
    for articles in runs:
        signatures = compute_signatures(articles)
        ids, rows = stories_and_sketches(
            signatures, stored_candidates(signatures, stored), anchor_repeats=not skip_repeats
        )
        stored = rows if stored is None else pl.concat([stored, rows])
        story_ids.update(ids.iter_rows())
    return story_ids


def evaluate_planted(
    originals: pl.DataFrame, variants: pl.DataFrame, distinct: set[str], story_ids: dict[str, str]
) -> PlantedResult:
    """Recall of planted variants and false grouping of distinct originals.

    Args:
        originals: the original articles.
        variants: output of :func:`plant_variants`.
        distinct: output of :func:`distinct_story_ids`.
        story_ids: ``article_id -> story_id`` for originals and variants.

    Returns:
        The counts, and the variants missed as ``(original_id, article_id, edits)``.
    """
    missed = [
        (row["original_id"], row["article_id"], row["edits"])
        for row in variants.iter_rows(named=True)
        if story_ids[row["article_id"]] != story_ids[row["original_id"]]
    ]
    members: dict[str, int] = defaultdict(int)
    for article_id in originals["article_id"]:
        if article_id in distinct:
            members[story_ids[article_id]] += 1
    wrongly = sum(1 for article_id in distinct if members[story_ids[article_id]] > 1)
    return PlantedResult(variants.height, variants.height - len(missed), len(distinct), wrongly, missed)


@dataclass
class ReutersResult:
    """Reuters near-duplicate figures: gold pairs grouped, and grouped pairs gold does not mark."""

    gold_pairs: int
    grouped: int
    unmarked: list[tuple[str, str, float, float]]


def evaluate_reuters(articles: pl.DataFrame, gold: list[dict[str, object]]) -> ReutersResult:
    """Group the Reuters stories in one batch (dates resolved first) and compare with gold.

    Args:
        articles: output of :func:`reuters_articles`.
        gold: its gold records.

    Returns:
        Gold ``near_duplicate_of`` pairs grouped, and the grouped pairs gold does not mark, each with its
        exact Jaccard and containment.
    """
    story_ids = story_ids_in_one_batch(resolve_published_at(articles))
    pairs = {
        tuple(sorted((str(record["path"]), str(record["kind"]).split(":", 1)[1])))
        for record in gold
        if str(record["kind"]).startswith("near_duplicate_of")
    }
    grouped = sum(1 for a, b in pairs if story_ids[a] == story_ids[b])
    stories: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in story_ids.items():
        stories[story_id].append(article_id)
    merged = [
        pair
        for members in stories.values()
        for pair in itertools.combinations(sorted(members), 2)
        if pair not in pairs
    ]
    exact = related_pairs(
        articles.filter(pl.col("article_id").is_in({a for pair in merged for a in pair})), 0.0, 0.0
    )
    unmarked = [(a, b, *exact.get((a, b), (0.0, 0.0))) for a, b in merged]
    return ReutersResult(len(pairs), grouped, unmarked)


def dateline_accuracy(articles: pl.DataFrame) -> tuple[int, int, int]:
    """Of the stories with a dateline date: how many resolve to the wire day, how many to within a day.

    Args:
        articles: output of :func:`reuters_articles` (``file_mtime`` = wire time).

    Returns:
        ``(same_day, within_one_day, with_dateline)``; a dateline gives the local date, so stories from
        Asia filed in the evening (UTC) are dated the next day.
    """
    resolved = resolve_published_at(articles).filter(pl.col("dateline_date").is_not_null())
    dated = resolved.filter(pl.col("published_at_source") == "dateline")
    gap = (pl.col("published_at").dt.date() - pl.col("file_mtime").dt.date()).abs()
    same = dated.filter(gap == timedelta(0)).height
    near = dated.filter(gap <= timedelta(days=1)).height
    return same, near, resolved.height


def repeated(frame: pl.DataFrame, copies: int) -> pl.DataFrame:
    """Copies of articles, none an exact duplicate of another.

    Args:
        frame: articles.
        copies: how many times to repeat them.

    Returns:
        ``frame`` ``copies`` times, ``article_id`` suffixed ``#<copy>``; each copy after the first ends with
        its own update line.
    """
    return pl.concat(
        [
            frame.with_columns(
                article_id=pl.col("article_id") + f"#{copy}",
                body=pl.col("body") if copy == 0 else pl.col("body") + f"\n\nUpdated {copy} times since.",
            )
            for copy in range(copies)
        ]
    )


def throughput(function: Callable[[], object], articles: int, runs: int) -> tuple[float, float]:
    """Median articles per second of ``function`` over ``runs`` timed calls, after a warm-up call.

    Args:
        function: the call to time.
        articles: articles it processes per call.
        runs: timed calls.

    Returns:
        ``(per wall-clock second, per CPU-second of this process)``; the second is steadier on a shared
        machine, and lower than the first when Polars keeps both cores busy.
    """
    function()
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return articles / statistics.median(wall), articles / statistics.median(cpu)


def main() -> None:
    """Print the figures described in the module docstring."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--copies", type=int, default=10, help="BBC repeats for throughput")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per function (median)")
    parser.add_argument("--planted", type=int, default=400, help="planted variants")
    parser.add_argument("--seed", type=int, default=20240611)
    arguments = parser.parse_args()
    corpus = arguments.corpus.resolve()
    if not (corpus / "bbc_news_fulltext").is_dir():
        parser.error(f"no bbc_news_fulltext under {corpus}: pass --corpus or set NEWSFLOW_CORPUS")

    bbc = bbc_articles(corpus)
    distinct = distinct_story_ids(bbc)
    candidates = bbc.filter(pl.col("article_id").is_in(distinct))
    variants = plant_variants(candidates, arguments.planted, arguments.seed)
    together = pl.concat([bbc, variants.select(list(ARTICLE_SCHEMA))])
    print(f"BBC: {bbc.height} stories ({len(distinct)} distinct), {variants.height} planted variants")
    for label, story_ids in (
        ("one batch", story_ids_in_one_batch(together)),
        ("stored, then variants", story_ids_incrementally(bbc, variants.select(list(ARTICLE_SCHEMA)))),
    ):
        result = evaluate_planted(bbc, variants, distinct, story_ids)
        recall = f"recall {result.recall:.1%} ({result.recovered}/{result.variants})"
        wrongly = f"{result.wrongly_grouped}/{result.distinct} distinct"
        grouping = f"false grouping {result.false_grouping:.2%} ({wrongly})"
        print(f"  planted near duplicates ({label}): {recall}, {grouping}")
    rewrites = plant_variants(
        variants.select(list(ARTICLE_SCHEMA)), arguments.planted, arguments.seed + 1
    ).with_columns(pl.col("article_id").str.replace("planted/", "rewritten/"))
    first = dict(variants.select("article_id", "original_id").iter_rows())
    runs = [bbc, variants.select(list(ARTICLE_SCHEMA)), rewrites.select(list(ARTICLE_SCHEMA))]
    for label, skip in (("repeats without anchors, as stored", True), ("every article anchored", False)):
        story_ids = story_ids_in_runs(runs, skip_repeats=skip)
        joined = sum(
            story_ids[rewrite] == story_ids[first[variant]]
            for rewrite, variant in rewrites.select("article_id", "original_id").iter_rows()
        )
        print(
            f"  rewrites of stored variants, three runs ({label}): {joined}/{rewrites.height} "
            f"({joined / rewrites.height:.1%}) share their original's story"
        )
    by_edit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    missed = {
        variant
        for _, variant, _ in evaluate_planted(
            bbc, variants, distinct, story_ids_in_one_batch(together)
        ).missed
    }
    for row in variants.iter_rows(named=True):
        for name in row["edits"].split(","):
            by_edit[name][0] += 1
            by_edit[name][1] += row["article_id"] not in missed
    print(
        "  recall by edit (variants with that edit): "
        + ", ".join(f"{name} {found / total:.0%}" for name, (total, found) in sorted(by_edit.items()))
    )
    natural = related_pairs(bbc, GOLD_NEAR_JACCARD, 1.1)
    natural_ids = story_ids_in_one_batch(bbc)
    print(
        f"  natural BBC near duplicates (exact Jaccard >= {GOLD_NEAR_JACCARD}): "
        f"{sum(natural_ids[a] == natural_ids[b] for a, b in natural)}/{len(natural)} pairs grouped"
    )

    reuters, gold = reuters_articles(corpus)
    outcome = evaluate_reuters(reuters, gold)
    print(f"Reuters: {reuters.height} stories (exact copies left out)")
    print(f"  near_duplicate_of pairs grouped: {outcome.grouped}/{outcome.gold_pairs}")
    print(f"  pairs grouped that gold does not mark: {len(outcome.unmarked)}")
    for a, b, jaccard, containment in sorted(outcome.unmarked, key=lambda item: item[2]):
        print(f"    {a} {b} jaccard {jaccard:.2f} containment {containment:.2f}")
    same, near, dated = dateline_accuracy(reuters)
    print(f"  dateline dates: {same}/{dated} on the wire day, {near}/{dated} within a day of it")

    copies, runs = arguments.copies, arguments.runs
    big = repeated(bbc, copies).with_columns(
        file_mtime=pl.lit(datetime(2005, 3, 1)) + pl.duration(hours=pl.int_range(pl.len()) % 500)
    )
    signatures = compute_signatures(repeated(together, copies))
    tokens = text_tokens(big)
    print(f"Throughput on BBC x{copies} ({big.height} articles), median of {runs}:")
    print("  (tone, keywords and signatures share text_tokens in the pipeline: timed given its tokens)")
    for name, function, size in (
        ("text_tokens", lambda: text_tokens(big), big.height),
        ("score_tone", lambda: score_tone(big, tokens), big.height),
        ("extract_keywords", lambda: extract_keywords(big, tokens=tokens), big.height),
        ("compute_signatures", lambda: compute_signatures(big, tokens), big.height),
        ("assign_story_ids", lambda: assign_story_ids(signatures), signatures.height),
        ("resolve_published_at", lambda: resolve_published_at(big), big.height),
    ):
        per_second, per_cpu_second = throughput(function, size, runs)
        print(f"  {name}: {per_second:,.0f} articles/s ({per_cpu_second:,.0f} per CPU-second)")


if __name__ == "__main__":
    main()
