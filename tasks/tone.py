"""Article tone in the manner of GDELT's V1.5 tone: the share of positive and negative words.

``tone_positive`` is the percentage of an article's words (title and body) that are positive in the
lexicon, ``tone_negative`` the percentage that are negative, and ``tone = tone_positive - tone_negative``:
points per 100 words, from -100 to +100, typically between -10 and +10. As in GDELT V1.5 every occurrence
counts and nothing is negated or intensified, so the score is a bag-of-words polarity, cheap and stable.

The lexicon is VADER's (Hutto & Gilbert 2014; ``vader_lexicon.txt`` from the ``vaderSentiment`` package,
MIT licence): 7,500 English words and emoticons rated by ten people each from -4 to +4. A single-word
entry counts as positive at a mean rating of at least ``+MIN_VALENCE`` and as negative at
``-MIN_VALENCE`` or below. :data:`NEWS_NEUTRAL` drops entries whose common sense in news is not an
evaluation (``shares``, ``interest``, ``party``, ``united``, ``crude`` ...). Only English is scored: other
languages, and articles without words, get NULL tone.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

import polars as pl

from newsflow.caching import cache_once
from tasks.text_tokens import TextTokens, text_tokens

LANGUAGES: Final = frozenset({"en"})
MIN_VALENCE: Final = 1.0
NEWS_NEUTRAL: Final = frozenset(
    {
        "credit",
        "credits",
        "crude",
        "energy",
        "entertainment",
        "grand",
        "gross",
        "hand",
        "interest",
        "interests",
        "like",
        "no",
        "ok",
        "okay",
        "parties",
        "party",
        "play",
        "played",
        "playing",
        "plays",
        "please",
        "pretty",
        "securities",
        "security",
        "share",
        "shared",
        "shares",
        "united",
        "value",
        "values",
        "well",
        "yes",
    }
)
"""Lexicon words whose usual sense in news copy is neutral: markets, politics, sport, place names."""

WORD_PATTERN: Final = r"[^\W\d_]+(?:['’][^\W\d_]+)*"


@cache_once(maxsize=1)
def lexicon() -> pl.DataFrame:
    """The polarity lexicon: ``word`` (lower case) and ``polarity`` (+1 positive, -1 negative).

    Returns:
        One row per scored word, from VADER's lexicon less :data:`NEWS_NEUTRAL`.
    """
    text = (files("vaderSentiment") / "vader_lexicon.txt").read_text(encoding="utf-8")
    entries = pl.DataFrame(
        [line.split("\t")[:2] for line in text.splitlines() if line.strip()],
        schema={"word": pl.String(), "valence": pl.String()},
        orient="row",
    )
    return (
        entries.with_columns(pl.col("valence").cast(pl.Float64))
        .filter(
            pl.col("word").str.contains(rf"^{WORD_PATTERN}$"),
            pl.col("valence").abs() >= MIN_VALENCE,
            ~pl.col("word").is_in(list(NEWS_NEUTRAL)),
        )
        .select("word", polarity=pl.col("valence").sign().cast(pl.Int8))
        .unique("word")
    )


def _word_counts(vocabulary: pl.DataFrame) -> pl.DataFrame:
    """Per token of the vocabulary, in order: ``n_words`` (words it holds), ``positive`` and ``negative``."""
    ids = vocabulary.select(id=pl.int_range(pl.len(), dtype=pl.UInt32))
    counts = (
        vocabulary.select(ids["id"], word=pl.col("token").str.extract_all(WORD_PATTERN))
        .explode("word")
        .drop_nulls("word")
        .join(lexicon(), on="word", how="left")
        .group_by("id")
        .agg(
            n_words=pl.len().cast(pl.UInt32),
            positive=(pl.col("polarity") > 0).sum().cast(pl.UInt32),
            negative=(pl.col("polarity") < 0).sum().cast(pl.UInt32),
        )
    )
    return ids.join(counts, on="id", how="left", maintain_order="left").select(
        pl.col("n_words", "positive", "negative").fill_null(0)
    )


def score_tone(articles: pl.DataFrame, tokens: TextTokens | None = None) -> pl.DataFrame:
    """Add GDELT-style tone columns to articles.

    Words are runs of letters, apostrophes between letters allowed, in the lower-cased title and body.

    Args:
        articles: cleaned articles with ``title``, ``body`` and ``language``.
        tokens: ``text_tokens(articles)`` when another pass has it already.

    Returns:
        ``articles`` with ``tone_positive``, ``tone_negative`` and ``tone`` (Float64, per 100 words), replaced
        when already present; NULL where the language has no lexicon or the text has no words.
    """
    tokens = tokens or text_tokens(articles)
    counts = (
        tokens.per_occurrence(_word_counts(tokens.vocabulary), text_only=True)
        .group_by("idx")
        .agg(pl.col("n_words").sum(), pl.col("positive").sum(), pl.col("negative").sum())
    )
    per_100 = pl.lit(100.0) / pl.col("n_words")
    scored = pl.col("n_words") > 0
    scores = (
        articles.select(
            idx=pl.int_range(pl.len(), dtype=pl.UInt32), scored=pl.col("language").is_in(LANGUAGES)
        )
        .join(counts, on="idx", how="left", maintain_order="left")
        .select(
            tone_positive=pl.when(pl.col("scored") & scored).then(pl.col("positive") * per_100),
            tone_negative=pl.when(pl.col("scored") & scored).then(pl.col("negative") * per_100),
        )
        .with_columns(tone=pl.col("tone_positive") - pl.col("tone_negative"))
    )
    return articles.with_columns(scores.get_columns())
