"""The words of a batch of articles, found once and shared by the tone, keyword and signature passes.

One regex pass with :data:`TOKEN_PATTERN` over each article's lower-cased ``dateline_date``, ``title`` and
``body``, joined by line breaks, gives its tokens in order: runs of word characters joined by
``. , ' ’ / -`` (``u.s``, ``don't``, ``30-year-old``), each with the apostrophe before it when there is one,
the punctuation marks that end phrases, and the line breaks. No token of the passes' own patterns spans
two of these tokens (each is a run of word characters and apostrophes, punctuation, or a line break), so
a pass that cuts each *distinct* token its own way and lays the pieces out in order gets exactly what its
pattern would find in the whole text. The passes therefore work on the batch's vocabulary (tens of
thousands of distinct tokens) instead of every occurrence, and the text is scanned once, not once a pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

TOKEN_PATTERN: Final = r"['’]?\w+(?:[.,'’/-]\w+)*|[.,;:!?()\[\]\"“”«»]|\n"
"""Word runs (with a leading apostrophe), phrase punctuation and line breaks."""

_KEY_SEED: Final = 0x746F6B656E73


@dataclass(frozen=True)
class TextTokens:
    """The tokens of one batch of articles.

    Attributes:
        occurrences: one row per token in text order: ``idx`` (the article's row, UInt32), ``id`` (the
            token's row in ``vocabulary``, UInt32) and ``text`` (False for the dateline's tokens and the
            line break after them, True for those of title and body).
        vocabulary: ``token`` (String, lower case), one row per distinct token.
        height: the number of articles.
    """

    occurrences: pl.DataFrame
    vocabulary: pl.DataFrame
    height: int

    def per_occurrence(self, values: pl.DataFrame, *, text_only: bool) -> pl.DataFrame:
        """Per-token ``values`` laid out over the occurrences, in text order.

        Args:
            values: one row per row of ``vocabulary``, in its order.
            text_only: leave out the dateline's tokens.

        Returns:
            ``idx`` and the columns of ``values``, one row per (kept) occurrence.
        """
        occurrences = self.occurrences.filter("text") if text_only else self.occurrences
        return occurrences.select(
            "idx", *[pl.lit(column).gather(pl.col("id")) for column in values.get_columns()]
        )


def text_tokens(articles: pl.DataFrame) -> TextTokens:
    """Tokenise a batch of articles once for every pass that reads their words.

    Args:
        articles: articles with ``title`` and ``body``; ``dateline_date`` is read when present. Missing
            or NULL parts are left out.

    Returns:
        The batch's :class:`TextTokens`.
    """
    columns = [name for name in ("dateline_date", "title", "body") if name in articles.columns]
    text = pl.concat_str([pl.col(name) for name in columns], separator="\n", ignore_nulls=True)
    dateline = (
        pl.col("dateline_date").str.to_lowercase().str.count_matches(TOKEN_PATTERN) + 1
        if "dateline_date" in articles.columns
        else pl.lit(None, pl.UInt32)
    )
    lists = articles.select(
        idx=pl.int_range(pl.len(), dtype=pl.UInt32),
        token=text.str.to_lowercase().str.extract_all(TOKEN_PATTERN),
        skipped=dateline.fill_null(0).cast(pl.UInt32),
    )
    tokens = (
        lists.with_columns(position=pl.int_ranges(pl.col("token").list.len(), dtype=pl.UInt32))
        .explode("token", "position")
        .drop_nulls("token")
        .select(
            "idx", "token", key=pl.col("token").hash(_KEY_SEED), text=pl.col("position") >= pl.col("skipped")
        )
    )
    vocabulary = tokens.select("key", "token").gather(tokens["key"].arg_unique()).with_row_index("id")
    occurrences = tokens.select("idx", "key", "text").join(
        vocabulary.select("key", "id"), on="key", how="left", maintain_order="left"
    )
    return TextTokens(
        occurrences=occurrences.select("idx", "id", "text"),
        vocabulary=vocabulary.select("token"),
        height=articles.height,
    )
