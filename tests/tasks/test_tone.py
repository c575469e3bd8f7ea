from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tasks.tone import NEWS_NEUTRAL, lexicon, score_tone


def _articles(*rows: tuple[str | None, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"article_id": str(i), "title": t, "body": b, "language": lang}
            for i, (t, b, lang) in enumerate(rows)
        ],
        schema={"article_id": pl.String, "title": pl.String, "body": pl.String, "language": pl.String},
    )


def test_lexicon_is_vader_single_words_without_news_neutral_senses() -> None:
    words = dict(lexicon().iter_rows())
    assert words["good"] == 1
    assert words["terrible"] == -1
    assert words["war"] == -1
    assert not NEWS_NEUTRAL & set(words)
    assert all(" " not in word for word in words)
    assert lexicon().height > 4000


@pytest.mark.parametrize(
    ("title", "body", "positive", "negative"),
    [
        ("Good news", "A great win.", 3 / 5 * 100, 0.0),
        ("War", "Terrible losses and a good harvest.", 1 / 7 * 100, 3 / 7 * 100),
        ("Shares", "The party united over interest rates.", 0.0, 0.0),
        ("Plain", "The committee met on Tuesday.", 0.0, 0.0),
    ],
)
def test_percentages_of_positive_and_negative_words(
    title: str, body: str, positive: float, negative: float
) -> None:
    scored = score_tone(_articles((title, body, "en")))
    assert scored["tone_positive"][0] == pytest.approx(positive)
    assert scored["tone_negative"][0] == pytest.approx(negative)
    assert scored["tone"][0] == pytest.approx(positive - negative)


def test_case_and_repeats_count_every_occurrence() -> None:
    scored = score_tone(_articles(("GOOD", "good Good bad", "en")))
    assert scored["tone_positive"][0] == pytest.approx(75.0)
    assert scored["tone_negative"][0] == pytest.approx(25.0)


def test_other_languages_and_empty_texts_get_null_tone() -> None:
    scored = score_tone(
        _articles(("Gute Nachrichten", "Ein großer Sieg.", "de"), ("", "", "en"), (None, None, "en"))
    )
    assert scored["tone"].to_list() == [None, None, None]
    assert scored["tone_positive"].null_count() == 3


def test_columns_are_added_or_replaced_and_rows_keep_their_order() -> None:
    frame = _articles(("a", "bad", "en"), ("b", "good", "en")).with_columns(
        tone=pl.lit(None, dtype=pl.Float64), extra=pl.lit(1)
    )
    scored = score_tone(frame)
    assert scored.columns == [*frame.columns, "tone_positive", "tone_negative"]
    assert scored["article_id"].to_list() == ["0", "1"]
    assert scored["tone"].to_list() == [-50.0, 50.0]
    assert scored.schema["tone"] == pl.Float64


def test_empty_frame() -> None:
    scored = score_tone(_articles())
    assert scored.height == 0
    assert {"tone", "tone_positive", "tone_negative"} <= set(scored.columns)


@pytest.mark.corpus
def test_bbc_tone_is_plausible_by_category(corpus_dir: Path) -> None:
    from bench.eval_enrichment import bbc_articles

    scored = score_tone(bbc_articles(corpus_dir)).with_columns(
        category=pl.col("article_id").str.split("/").list.first()
    )
    assert scored["tone"].null_count() == 0
    assert scored["tone"].is_between(-30, 30).all()
    means = dict(scored.group_by("category").agg(pl.col("tone").mean()).iter_rows())
    assert means["entertainment"] > means["politics"]
    assert 1.0 < scored["tone_positive"].mean() < 6.0
    assert 1.0 < scored["tone_negative"].mean() < 6.0
