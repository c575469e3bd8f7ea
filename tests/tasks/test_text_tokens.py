from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks import keywords, near_duplicates, tone
from tasks.text_tokens import text_tokens

PIECES = [
    "U.S.",
    "u.s",
    "don't",
    "Don’t",
    "30-year-old",
    "1,500",
    "3.5%",
    "'quoted'",
    "’s",
    "John's",
    "Jones'",
    "rock'n'roll",
    "abc123def",
    "_under_score",
    "Zürich",
    "İstanbul",
    "naïve",
    "co-operate",
    "and/or",
    "e.g.",
    "(Reuters)",
    "«bonjour»",
    "“yes”",
    '"no"',
    "--",
    "''",
    "x.'s",
    "it's.x",
    "ab's-cd",
    "!",
    "?",
    ";",
    ":",
    "[1]",
    "...",
    "\n",
    "\n\n",
    " ",
    "\t",
    "A",
    "good",
    "terrible",
    "war",
]

WORDS = st.lists(st.sampled_from(PIECES), max_size=30).map(lambda parts: "".join(parts))
SPACED = st.lists(st.sampled_from(PIECES), max_size=30).map(" ".join)
TEXT = st.one_of(WORDS, SPACED, st.text(max_size=40))


def _frame(rows: list[tuple[str | None, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "dateline_date": [row[0] for row in rows],
            "title": [row[1] for row in rows],
            "body": [row[2] for row in rows],
        },
        schema={"dateline_date": pl.String, "title": pl.String, "body": pl.String},
    )


def _pieces(frame: pl.DataFrame, cut: pl.Expr, *, text_only: bool) -> list[list[str]]:
    """Each article's pieces, cutting each shared token with ``cut`` and laying the pieces out in order."""
    tokens = text_tokens(frame)
    cuts = tokens.vocabulary.select(piece=cut)
    per_article = (
        tokens.per_occurrence(cuts, text_only=text_only)
        .explode("piece")
        .drop_nulls("piece")
        .group_by("idx", maintain_order=True)
        .agg("piece")
    )
    found = dict(per_article.iter_rows())
    return [found.get(index, []) for index in range(frame.height)]


def _whole(frame: pl.DataFrame, text: pl.Expr, pattern: str) -> list[list[str]]:
    return [
        list(tokens) for tokens in frame.select(text.str.to_lowercase().str.extract_all(pattern)).to_series()
    ]


TITLE_BODY = pl.concat_str([pl.col("title").fill_null(""), pl.col("body").fill_null("")], separator="\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.none() | TEXT, st.none() | TEXT, st.none() | TEXT), min_size=1, max_size=5))
def test_cutting_shared_tokens_finds_what_each_pattern_finds_in_the_text(
    rows: list[tuple[str | None, str | None, str | None]],
) -> None:
    frame = _frame(rows)
    token = pl.col("token")

    tone_words = _pieces(frame, token.str.extract_all(tone.WORD_PATTERN), text_only=True)
    assert tone_words == _whole(frame, TITLE_BODY, tone.WORD_PATTERN)

    possessive = r"['’]s\b"
    keyword_tokens = _pieces(
        frame, token.str.replace_all(possessive, "").str.extract_all(keywords._TOKEN_PATTERN), text_only=True
    )
    expected = [
        [piece for piece in pieces if piece != "\n"]
        for pieces in frame.select(
            TITLE_BODY.str.to_lowercase()
            .str.replace_all(possessive, "")
            .str.extract_all(keywords._TOKEN_PATTERN)
        ).to_series()
    ]
    assert [[piece for piece in pieces if piece != "\n"] for pieces in keyword_tokens] == expected

    signature_words = _pieces(
        frame,
        pl.concat_list(token.str.strip_prefix("'").str.strip_prefix("’")).list.filter(
            pl.element().str.contains(r"^\w")
        ),
        text_only=False,
    )
    whole_text = pl.concat_str(["dateline_date", "title", "body"], separator="\n", ignore_nulls=True)
    assert signature_words == _whole(frame, whole_text, near_duplicates.TOKEN_PATTERN)


def test_dateline_tokens_are_not_text() -> None:
    frame = _frame([("March 3.", "Good news", "A war."), (None, "Good", None), ("", None, "War")])
    tokens = text_tokens(frame)
    words = tokens.per_occurrence(tokens.vocabulary, text_only=False).with_columns(
        text=tokens.occurrences["text"]
    )
    text = words.filter("text").group_by("idx", maintain_order=True).agg("token")
    assert dict(text.iter_rows()) == {
        0: ["good", "news", "\n", "a", "war", "."],
        1: ["good"],
        2: ["war"],
    }
    assert words.filter(~pl.col("text"))["token"].to_list() == ["march", "3", ".", "\n", "\n"]
