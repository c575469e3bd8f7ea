from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from tasks.dates import resolve_published_at

SCHEMA = {
    "article_id": pl.String,
    "title": pl.String,
    "body": pl.String,
    "language": pl.String,
    "published_at": pl.Datetime("us"),
    "published_at_source": pl.String,
    "dateline_date": pl.String,
    "file_mtime": pl.Datetime("us"),
}


def _article(**values: object) -> pl.DataFrame:
    row = {"article_id": "a", "title": "Title", "body": "Body.", "language": "en", **values}
    return pl.DataFrame([row], schema=SCHEMA)


def _resolved(**values: object) -> dict[str, object]:
    return resolve_published_at(_article(**values)).row(0, named=True)


def test_existing_value_and_source_are_kept() -> None:
    row = _resolved(
        published_at=datetime(2024, 7, 12, 15, 30),
        published_at_source="feed",
        dateline_date="March 26",
        file_mtime=datetime(2025, 1, 1),
    )
    assert row["published_at"] == datetime(2024, 7, 12, 15, 30)
    assert row["published_at_source"] == "feed"


@pytest.mark.parametrize(
    ("dateline", "mtime", "expected"),
    [
        ("March 26", datetime(2024, 3, 27, 9), datetime(2024, 3, 26)),
        ("MARCH 26", datetime(2024, 3, 26, 1), datetime(2024, 3, 26)),
        ("Dec. 30", datetime(2025, 1, 2), datetime(2024, 12, 30)),
        ("Jan. 5", datetime(2025, 1, 4, 22), datetime(2025, 1, 5)),
        ("Sept. 12", datetime(2024, 9, 20), datetime(2024, 9, 12)),
        ("APril 3", datetime(1987, 4, 3, 12), datetime(1987, 4, 3)),
        ("ABR 7", datetime(1987, 4, 7, 12), datetime(1987, 4, 7)),
        ("26 March", datetime(2024, 3, 27), datetime(2024, 3, 26)),
        ("July 10, 2019", datetime(2024, 3, 27), datetime(2019, 7, 10)),
        ("Feb. 29", datetime(2024, 3, 1), datetime(2024, 2, 29)),
        ("Feb. 29", datetime(2025, 3, 1), datetime(2024, 2, 29)),
    ],
)
def test_dateline_year_puts_the_date_closest_before_the_file_time(
    dateline: str, mtime: datetime, expected: datetime
) -> None:
    row = _resolved(dateline_date=dateline, file_mtime=mtime)
    assert row["published_at"] == expected
    assert row["published_at_source"] == "dateline"


def test_dateline_without_file_time_takes_the_latest_year_in_the_text() -> None:
    row = _resolved(dateline_date="March 26", body="Profits for 1986 rose; the 1985 figure was restated.")
    assert row["published_at"] == datetime(1986, 3, 26)
    assert row["published_at_source"] == "dateline"


@pytest.mark.parametrize("dateline", ["March", "Feb 30", "Macrh 31", None])
def test_unusable_dateline_falls_back_to_file_time(dateline: str | None) -> None:
    row = _resolved(dateline_date=dateline, file_mtime=datetime(2024, 3, 27, 9, 15))
    assert row["published_at"] == datetime(2024, 3, 27, 9, 15)
    assert row["published_at_source"] == "file_mtime"


def test_no_evidence_leaves_null() -> None:
    row = _resolved(dateline_date="March 26")
    assert row["published_at"] is None
    assert row["published_at_source"] is None
    assert row["mentioned_dates"] == []


FRIDAY = datetime(2024, 7, 12, 15, 0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Prices fell yesterday.", [date(2024, 7, 11)]),
        ("Talks resume today and end tomorrow.", [date(2024, 7, 12), date(2024, 7, 13)]),
        ("The minister spoke on Wednesday.", [date(2024, 7, 10)]),
        ("Results came on Friday.", [date(2024, 7, 12)]),
        ("It rained last Friday.", [date(2024, 7, 5)]),
        ("Voting starts next Monday.", [date(2024, 7, 15)]),
        ("Voting starts next Friday.", [date(2024, 7, 19)]),
        ("The vote is this Sunday.", [date(2024, 7, 14)]),
        ("The firm said Tuesday it would sell.", [date(2024, 7, 9)]),
        ("The deal was signed on July 10, 2024.", [date(2024, 7, 10)]),
        ("The deal was signed on 10 July 2024.", [date(2024, 7, 10)]),
        ("It closes March 3.", [date(2024, 3, 3)]),
        ("Hearings begin Jan. 6.", [date(2025, 1, 6)]),
        ("It happened on Dec. 30 and again Sept. 2nd.", [date(2024, 9, 2), date(2024, 12, 30)]),
        ("In May the party may win 3 seats.", []),
        ("Nothing dated here.", []),
    ],
)
def test_mentioned_dates_resolve_against_published_at(body: str, expected: list[date]) -> None:
    row = _resolved(body=body, published_at=FRIDAY, published_at_source="feed")
    assert row["mentioned_dates"] == expected


def test_mentioned_dates_use_the_resolved_date_and_need_one_for_relative_days() -> None:
    row = _resolved(
        body="It fell yesterday, after July 4, 2023.",
        dateline_date="March 26",
        file_mtime=datetime(2024, 3, 27),
    )
    assert row["mentioned_dates"] == [date(2023, 7, 4), date(2024, 3, 25)]
    unknown = _resolved(body="It fell yesterday, after July 4, 2023, and on March 3.")
    assert unknown["mentioned_dates"] == [date(2023, 7, 4)]


def test_columns_added_and_order_kept() -> None:
    frame = _article(file_mtime=datetime(2024, 1, 1)).drop("published_at", "published_at_source")
    resolved = resolve_published_at(pl.concat([frame, frame.with_columns(article_id=pl.lit("b"))]))
    assert resolved.columns == [*frame.columns, "published_at", "published_at_source", "mentioned_dates"]
    assert resolved["article_id"].to_list() == ["a", "b"]
    assert resolved.schema["published_at"] == pl.Datetime("us")
    assert resolved.schema["mentioned_dates"] == pl.List(pl.Date)


def test_empty_frame() -> None:
    resolved = resolve_published_at(pl.DataFrame(schema=SCHEMA))
    assert resolved.height == 0
    assert "mentioned_dates" in resolved.columns


@pytest.mark.corpus
def test_reuters_datelines_resolve_to_the_wire_day(corpus_dir: Path) -> None:
    from bench.eval_enrichment import dateline_accuracy, reuters_articles

    articles, _ = reuters_articles(corpus_dir)
    same_day, within_a_day, with_dateline = dateline_accuracy(articles)
    assert with_dateline > 3000
    assert same_day / with_dateline > 0.95
    assert within_a_day / with_dateline > 0.99
