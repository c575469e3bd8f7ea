from __future__ import annotations

import random
import re
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import xxhash

from tasks.near_duplicates import (
    NUM_ANCHORS,
    SIGNATURES_SCHEMA,
    SKETCH_ROWS_SCHEMA,
    SKETCH_SIZE,
    TOKEN_PATTERN,
    anchor_rows,
    assign_story_ids,
    compute_signatures,
    repeated_articles,
    sketch_rows,
    stored_candidates,
)

SCHEMA = {
    "article_id": pl.String,
    "title": pl.String,
    "body": pl.String,
    "published_at": pl.Datetime("us"),
    "dateline_date": pl.String,
}

_TEXT = (
    "government minister said plans would bring new rules for energy prices across the country after months "
    "of talks with suppliers regulators and consumer groups who warned that bills could rise sharply again "
    "this winter unless action was taken quickly to protect households on low incomes and small firms"
)
WORDS = tuple(re.findall(r"\w+", _TEXT))


def _story(seed: int, words: int = 200) -> str:
    rng = random.Random(seed)
    sentences, sentence = [], []
    for _ in range(words):
        sentence.append(rng.choice(WORDS) + str(rng.randrange(50)))
        if len(sentence) == 12:
            sentences.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    return "\n\n".join(" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3))


def _frame(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"title": "Title", "published_at": None, "dateline_date": None, **row} for row in rows],
        schema=SCHEMA,
    )


def _stories(frame: pl.DataFrame, existing: pl.DataFrame | None = None) -> dict[str, str]:
    return dict(assign_story_ids(compute_signatures(frame), existing).iter_rows())


def test_signature_schema_and_sketch_shape() -> None:
    signatures = compute_signatures(
        _frame({"article_id": "a", "body": _story(1)}, {"article_id": "b", "body": "Too short."})
    )
    assert signatures.schema == pl.Schema(SIGNATURES_SCHEMA)
    long, short = signatures.rows(named=True)
    assert long["n_shingles"] > SKETCH_SIZE
    assert len(long["sketch"]) == SKETCH_SIZE
    assert long["sketch"] == sorted(set(long["sketch"]))
    assert short["n_shingles"] == 0
    assert short["sketch"] == []


def _reference_sketch(text: str) -> list[int]:
    """The sketch computed in plain Python: xxh3-64 per word, shingle hashes mixed with splitmix64."""
    mask = (1 << 64) - 1

    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    multipliers = (
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
    )
    hashes = [xxhash.xxh3_64_intdigest(word.encode()) for word in re.findall(TOKEN_PATTERN, text.lower())]
    shingles = {
        mix(sum(h * m for h, m in zip(hashes[i : i + 5], multipliers, strict=True)) & mask)
        for i in range(len(hashes) - 4)
    }
    return sorted(shingles)[:SKETCH_SIZE]


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog",
        "Zürich's Börse fell 1.5% on Monday, traders said",
        _story(2),
    ],
)
def test_signatures_follow_the_stable_reference(text: str) -> None:
    signature = compute_signatures(_frame({"article_id": "a", "title": None, "body": text})).row(
        0, named=True
    )
    expected = _reference_sketch(text)
    assert signature["sketch"] == expected
    assert signature["n_shingles"] == len(set(_reference_shingle_count(text)))


def _reference_shingle_count(text: str) -> list[str]:
    words = re.findall(TOKEN_PATTERN, text.lower())
    return [" ".join(words[i : i + 5]) for i in range(len(words) - 4)]


def test_case_and_order_of_rows_do_not_change_signatures() -> None:
    body = _story(3)
    one = compute_signatures(
        _frame({"article_id": "a", "body": body}, {"article_id": "b", "body": _story(4)})
    )
    two = compute_signatures(
        _frame({"article_id": "b", "body": _story(4)}, {"article_id": "a", "body": body.upper()})
    )
    assert one.filter(pl.col("article_id") == "a")["sketch"].to_list() == (
        two.filter(pl.col("article_id") == "a")["sketch"].to_list()
    )


def test_distinct_stories_keep_their_own_ids() -> None:
    frame = _frame(*({"article_id": f"s{i}", "body": _story(i)} for i in range(5)))
    assert _stories(frame) == {f"s{i}": f"s{i}" for i in range(5)}


def test_copies_and_edits_join_the_earliest_article() -> None:
    body = _story(7)
    paragraphs = body.split("\n\n")
    frame = _frame(
        {"article_id": "z-original", "body": body, "published_at": datetime(2024, 1, 1, 8)},
        {
            "article_id": "a-correction",
            "body": "Correction: a name was misspelt.\n\n" + body,
            "published_at": datetime(2024, 1, 1, 12),
        },
        {
            "article_id": "b-trimmed",
            "body": "\n\n".join(paragraphs[:3]),
            "published_at": datetime(2024, 1, 1, 9),
        },
        {
            "article_id": "c-edited",
            "title": "New title",
            "body": body.replace(paragraphs[2], _story(99, 24)),
            "published_at": None,
        },
        {"article_id": "d-other", "body": _story(8), "published_at": datetime(2023, 12, 31)},
    )
    assert _stories(frame) == {
        "z-original": "z-original",
        "a-correction": "z-original",
        "b-trimmed": "z-original",
        "c-edited": "z-original",
        "d-other": "d-other",
    }


def test_earliest_without_dates_is_the_smallest_article_id() -> None:
    body = _story(11)
    frame = _frame(
        {"article_id": "b", "body": body}, {"article_id": "a", "body": body + " Extra words here."}
    )
    assert _stories(frame) == {"b": "a", "a": "a"}


def test_groups_are_transitive() -> None:
    base = _story(12, 240).split("\n\n")
    first = "\n\n".join(base)
    second = "\n\n".join([*base[:-2], _story(50, 36)])
    third = "\n\n".join([*base[:-4], _story(50, 36), _story(51, 36)])
    frame = _frame(
        {"article_id": "1", "body": first},
        {"article_id": "2", "body": second},
        {"article_id": "3", "body": third},
    )
    assert set(_stories(frame).values()) == {"1"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "Shr 8.43 cts vs 9.61 cts Net 1,234,000 vs 987,000 Revs 45.6 mln vs 41.2 mln",
            "Shr 1.12 dlrs vs 98 cts Net 4,567,000 vs 3,210,000 Revs 88.1 mln vs 79.4 mln",
        ),
        (
            "Shr loss 56 cts vs loss 71 cts Net loss 809,000 vs loss 1.0 mln Revs 5.3 mln vs 5.3 mln",
            "Shr loss 12 cts vs loss 30 cts Net loss 205,000 vs loss 1.1 mln Revs 2.1 mln vs 2.4 mln",
        ),
    ],
)
def test_formulaic_earnings_with_other_figures_stay_apart(first: str, second: str) -> None:
    frame = _frame(
        {"article_id": "x", "title": "ACME CORP 4TH QTR", "body": first},
        {"article_id": "y", "title": "ACME CORP 4TH QTR", "body": second},
    )
    assert _stories(frame) == {"x": "x", "y": "y"}


def test_short_recurring_report_groups_on_one_day_only() -> None:
    body = (
        "There were five grain ships loading and three ships were waiting to load at Portland, traders said."
    )
    same_day = _frame(
        {"article_id": "a", "body": body, "published_at": datetime(1987, 4, 1, 9)},
        {"article_id": "b", "body": body, "published_at": datetime(1987, 4, 1, 15)},
    )
    days_apart = same_day.with_columns(published_at=pl.Series([datetime(1987, 4, 1), datetime(1987, 4, 3)]))
    assert _stories(same_day) == {"a": "a", "b": "a"}
    assert _stories(days_apart) == {"a": "a", "b": "b"}


def test_tiny_texts_are_never_grouped() -> None:
    frame = _frame(
        {"article_id": "a", "body": "Markets closed."}, {"article_id": "b", "body": "Markets closed."}
    )
    assert _stories(frame) == {"a": "a", "b": "b"}


def test_new_articles_join_stored_stories() -> None:
    stored_frame = _frame(
        {"article_id": "old-1", "body": _story(20)}, {"article_id": "old-2", "body": _story(21)}
    )
    stored_signatures = compute_signatures(stored_frame)
    stored_ids = pl.DataFrame({"article_id": ["old-1", "old-2"], "story_id": ["story-A", "story-B"]})
    rows = sketch_rows(stored_signatures, stored_ids)
    assert rows.schema == pl.Schema(SKETCH_ROWS_SCHEMA)
    assert rows["sketch"].list.len().to_list() == [SKETCH_SIZE, SKETCH_SIZE]
    anchors = anchor_rows(rows)
    assert anchors.group_by("article_id").len().sort("article_id")["len"].to_list() == [NUM_ANCHORS] * 2
    assert anchors["shingle_hash"].to_list() == rows["sketch"].list.head(NUM_ANCHORS).explode().to_list()

    arriving = _frame(
        {"article_id": "new-1", "body": "Update: adds comment.\n\n" + _story(21)},
        {"article_id": "new-2", "body": _story(21) + " More."},
        {"article_id": "new-3", "body": _story(22)},
        {"article_id": "old-1", "body": _story(20)},
    )
    assert _stories(arriving, rows) == {
        "new-1": "story-B",
        "new-2": "story-B",
        "new-3": "new-3",
        "old-1": "story-A",
    }


def test_certain_matches_of_other_stored_articles_are_repeats() -> None:
    stored = sketch_rows(
        compute_signatures(_frame({"article_id": "a", "body": _story(50, 300)})),
        pl.DataFrame({"article_id": ["a"], "story_id": ["story-A"]}),
    )
    words = _story(50, 300).split(" ")
    words[150] = "changed"
    arriving = compute_signatures(
        _frame(
            {"article_id": "copy", "body": " ".join(words)},
            {"article_id": "a", "body": _story(50, 300)},
            {"article_id": "other", "body": _story(51, 300)},
        )
    )
    repeats = repeated_articles(arriving, stored_candidates(arriving, stored))
    assert repeats.to_list() == ["copy"]
    rows = sketch_rows(arriving, assign_story_ids(arriving, stored), repeats)
    assert dict(rows.select("article_id", "anchored").iter_rows()) == {
        "copy": False,
        "a": True,
        "other": True,
    }
    assert set(anchor_rows(rows)["article_id"]) == {"a", "other"}
    later = compute_signatures(_frame({"article_id": "later", "body": " ".join(words)}))
    stored_again = pl.concat([stored, rows.filter(pl.col("article_id") == "copy")])
    assert stored_candidates(later, stored_again).pairs["article_id"].to_list() == ["a"]
    assert _stories(_frame({"article_id": "later", "body": " ".join(words)}), stored_again) == {
        "later": "story-A"
    }


def test_rerun_keeps_story_ids_of_stored_articles() -> None:
    frame = _frame({"article_id": "a", "body": _story(30)}, {"article_id": "b", "body": _story(30)})
    signatures = compute_signatures(frame)
    first = assign_story_ids(signatures)
    again = assign_story_ids(signatures, sketch_rows(signatures, first))
    assert first.equals(again)


def test_stored_article_keeps_its_story_when_its_text_changes() -> None:
    stored = compute_signatures(_frame({"article_id": "a", "body": _story(40)}))
    rows = sketch_rows(stored, pl.DataFrame({"article_id": ["a"], "story_id": ["story-A"]}))
    assert _stories(_frame({"article_id": "a", "body": _story(41)}), rows) == {"a": "story-A"}


def test_empty_inputs() -> None:
    empty = compute_signatures(pl.DataFrame(schema=SCHEMA))
    assert empty.schema == pl.Schema(SIGNATURES_SCHEMA)
    assert assign_story_ids(empty).height == 0
    one = compute_signatures(_frame({"article_id": "a", "body": _story(1)}))
    no_rows = pl.DataFrame(schema=SKETCH_ROWS_SCHEMA)
    assert assign_story_ids(one, no_rows).rows() == [("a", "a")]


def test_story_ids_do_not_depend_on_row_order() -> None:
    rows = [{"article_id": f"a{i}", "body": _story(i % 4)} for i in range(12)]
    forward = _stories(_frame(*rows))
    backward = _stories(_frame(*reversed(rows)))
    assert forward == backward
    assert len(set(forward.values())) == 4


@pytest.fixture(scope="module")
def bbc_planted(corpus_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame, set[str]]:
    from bench.eval_enrichment import bbc_articles, distinct_story_ids, plant_variants

    bbc = bbc_articles(corpus_dir)
    distinct = distinct_story_ids(bbc)
    variants = plant_variants(bbc.filter(pl.col("article_id").is_in(distinct)), 400, seed=20240611)
    return bbc, variants, distinct


@pytest.mark.corpus
@pytest.mark.parametrize("mode", ["one batch", "stored first"])
def test_planted_bbc_near_duplicates(
    bbc_planted: tuple[pl.DataFrame, pl.DataFrame, set[str]], mode: str
) -> None:
    from bench.eval_enrichment import (
        ARTICLE_SCHEMA,
        evaluate_planted,
        story_ids_in_one_batch,
        story_ids_incrementally,
    )

    bbc, variants, distinct = bbc_planted
    arriving = variants.select(list(ARTICLE_SCHEMA))
    story_ids = (
        story_ids_in_one_batch(pl.concat([bbc, arriving]))
        if mode == "one batch"
        else story_ids_incrementally(bbc, arriving)
    )
    result = evaluate_planted(bbc, variants, distinct, story_ids)
    assert result.variants == 400
    assert result.distinct > 1900
    assert result.recall >= 0.95, result.missed
    assert result.false_grouping <= 0.01


@pytest.mark.corpus
def test_reuters_gold_near_duplicates(corpus_dir: Path) -> None:
    from bench.eval_enrichment import evaluate_reuters, reuters_articles

    articles, gold = reuters_articles(corpus_dir)
    result = evaluate_reuters(articles, gold)
    assert result.gold_pairs == 36
    assert result.grouped >= 35
    assert len(result.unmarked) <= 65
    bodies = dict(articles.select("article_id", "body").iter_rows())
    titles = dict(articles.select("article_id", "title").iter_rows())
    earnings_merged = [
        (a, b)
        for a, b, _, _ in result.unmarked
        if bodies[a].startswith("Shr")
        and bodies[b].startswith("Shr")
        and "CORRECTED" not in titles[a] + titles[b]
    ]
    assert earnings_merged == []
