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

from functools import lru_cache
from importlib.resources import files
from typing import Final

import polars as pl

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


@lru_cache(maxsize=1)
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


def score_tone(articles: pl.DataFrame) -> pl.DataFrame:
    """Add GDELT-style tone columns to articles.

    Args:
        articles: cleaned articles with ``title``, ``body`` and ``language``.

    Returns:
        ``articles`` with ``tone_positive``, ``tone_negative`` and ``tone`` (Float64, per 100 words), replaced
        when already present; NULL where the language has no lexicon or the text has no words.
    """
    text = pl.concat_str(
        [pl.col("title").fill_null(""), pl.col("body").fill_null("")], separator="\n"
    ).str.to_lowercase()
    words = (
        articles.lazy()
        .select(
            idx=pl.int_range(pl.len(), dtype=pl.UInt32),
            word=pl.when(pl.col("language").is_in(list(LANGUAGES))).then(text.str.extract_all(WORD_PATTERN)),
        )
        .with_columns(n_words=pl.col("word").list.len())
    )
    counts = (
        words.select("idx", "word")
        .explode("word")
        .join(lexicon().lazy(), on="word", how="inner")
        .group_by("idx")
        .agg(
            positive=(pl.col("polarity") > 0).sum(),
            negative=(pl.col("polarity") < 0).sum(),
        )
    )
    per_100 = pl.lit(100.0) / pl.col("n_words")
    scores = (
        words.select("idx", "n_words")
        .join(counts, on="idx", how="left", maintain_order="left")
        .select(
            tone_positive=pl.when(pl.col("n_words") > 0).then(pl.col("positive").fill_null(0) * per_100),
            tone_negative=pl.when(pl.col("n_words") > 0).then(pl.col("negative").fill_null(0) * per_100),
        )
        .with_columns(tone=pl.col("tone_positive") - pl.col("tone_negative"))
        .collect()
    )
    return articles.with_columns(scores.get_columns())
