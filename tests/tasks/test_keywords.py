from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tasks.keywords import KEYWORDS_SCHEMA, extract_keywords


def _articles(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"article_id": f"a{i}", "title": t, "body": b, "language": lang}
            for i, (t, b, lang) in enumerate(rows)
        ],
        schema={"article_id": pl.String, "title": pl.String, "body": pl.String, "language": pl.String},
    )


TIME_WARNER = (
    "Ad sales boost Time Warner profit",
    "Quarterly profits at US media giant Time Warner jumped 76% to $1.13bn for the three months to "
    "December.\n\nTime Warner said fourth quarter sales rose 2%. Its profits were buoyed by one-off gains "
    "which offset a profit dip at Warner Bros, and less users for AOL.\n\nAOL's underlying profit rose 8% "
    "on the back of stronger internet advertising revenues. Time Warner's fourth quarter profits were "
    "slightly better than analysts' expectations.",
    "en",
)


def _keywords(frame: pl.DataFrame, top_n: int = 10) -> dict[str, list[str]]:
    result = extract_keywords(frame, top_n)
    return {
        key[0]: group["keyword"].to_list()
        for key, group in result.group_by("article_id", maintain_order=True)
    }


def test_schema_order_and_top_n() -> None:
    result = extract_keywords(_articles(TIME_WARNER), top_n=5)
    assert result.schema == pl.Schema(KEYWORDS_SCHEMA)
    assert result.height == 5
    assert result["score"].to_list() == sorted(result["score"].to_list(), reverse=True)
    assert result["article_id"].unique().to_list() == ["a0"]


def test_names_and_phrases_rank_above_common_words() -> None:
    keywords = _keywords(_articles(TIME_WARNER))["a0"]
    assert "time warner" in keywords
    assert "aol" in keywords
    assert "fourth quarter" in keywords
    assert {"said", "the", "its", "time"}.isdisjoint(keywords)


def test_possessives_merge_with_the_name() -> None:
    keywords = _keywords(_articles(("AOL", "AOL's results. AOL grew. AOL’s users.", "en")))["a0"]
    assert keywords[0] == "aol"
    assert "aol's" not in keywords


def test_phrases_need_two_occurrences_and_no_punctuation_between() -> None:
    text = "Interest rates rose. Interest rates fell. Banks, lenders worried."
    keywords = _keywords(_articles(("Markets", text, "en")))["a0"]
    assert "interest rates" in keywords
    assert "banks lenders" not in keywords


@pytest.mark.parametrize(
    ("language", "title", "body", "stopword"),
    [
        ("de", "Bundesbank", "Die Bundesbank und die Regierung haben die Zinsen nicht erhöht.", "die"),
        ("fr", "Banque", "La Banque de France et le gouvernement ont maintenu les taux.", "les"),
        ("es", "Banco", "El Banco de España y el gobierno mantuvieron los tipos de interés.", "los"),
        ("en", "Bank", "The Bank of England and the government held the rates.", "the"),
    ],
)
def test_stopwords_are_language_aware(language: str, title: str, body: str, stopword: str) -> None:
    keywords = _keywords(_articles((title, body, language)))["a0"]
    assert stopword not in keywords
    assert title.lower() in keywords


def test_unsupported_language_uses_batch_document_frequency() -> None:
    frame = _articles(
        ("a", "kulu kulu maji moto", "sw-unknown"),
        ("b", "kulu pesa pesa nyumba", "sw-unknown"),
    )
    keywords = _keywords(frame)
    assert keywords["a0"][0] in {"maji", "moto"}
    assert "kulu" not in keywords["a1"][:2]


def test_empty_and_wordless_articles() -> None:
    assert extract_keywords(_articles()).height == 0
    assert extract_keywords(_articles(("", "123 456 !!", "en"))).height == 0
    assert extract_keywords(_articles(TIME_WARNER), top_n=0).height == 0


def test_null_language_and_text_do_not_fail() -> None:
    frame = pl.DataFrame(
        {"article_id": ["x"], "title": [None], "body": ["Zebras zebras graze"], "language": [None]},
        schema={"article_id": pl.String, "title": pl.String, "body": pl.String, "language": pl.String},
    )
    assert extract_keywords(frame)["keyword"].to_list()[0] == "zebras"


def test_deterministic() -> None:
    frame = _articles(TIME_WARNER, ("Other", "Rates and rates and banks.", "en"))
    assert extract_keywords(frame).equals(extract_keywords(frame))


@pytest.mark.corpus
def test_bbc_keywords_name_the_story(corpus_dir: Path) -> None:
    from bench.eval_enrichment import bbc_articles

    articles = bbc_articles(corpus_dir)
    result = extract_keywords(articles)
    assert result["article_id"].n_unique() == articles.height
    per_article = result.group_by("article_id").len()
    assert per_article["len"].min() == 10
    first = result.filter(pl.col("article_id") == "business/001.txt")["keyword"].to_list()
    assert {"aol", "time warner"} <= set(first)
    titles = dict(articles.select("article_id", pl.col("title").str.to_lowercase()).iter_rows())
    in_title = (
        result.group_by("article_id")
        .agg(pl.col("keyword"))
        .filter(
            pl.struct("article_id", "keyword").map_elements(
                lambda row: any(k in titles[row["article_id"]] for k in row["keyword"]),
                return_dtype=pl.Boolean,
            )
        )
    )
    assert in_title.height / articles.height > 0.9
