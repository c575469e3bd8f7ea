"""Publication dates from the best evidence, and the dates an article's text mentions.

``published_at`` comes, in order of trust, from the record itself (sidecar, feed, HTML or JSON metadata:
kept with its ``published_at_source``), from the dateline (``WASHINGTON, March 26 -``: source
``dateline``) or from the file's modification time (source ``file_mtime``). A dateline rarely gives the
year; it is taken from the context: the file's modification year or the year before, whichever puts the
date closest before the file time (up to ``DATELINE_GRACE`` after it still counts, for time zones and
clock skew), so ``Dec. 30`` in a file written on 2 January is last year's. Without a file time, the
latest year (1800-2099) the title or body mentions is taken; with neither, the dateline is not used.

``mentioned_dates`` lists the days the body refers to, resolved against ``published_at``: ``yesterday``,
``today``, ``tomorrow``; weekdays (``on Wednesday`` is the latest Wednesday on or before publication,
``last Friday`` the one before publication, ``next Monday`` the one after, ``this Friday`` the first on
or after publication); explicit dates (``July 10, 2024``, ``10 July 2024``) and dates without a year
(``March 3``: the year that puts it closest to publication). Without ``published_at`` only explicit
dates with a year are resolved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

import polars as pl

from tasks.months import MONTH_ABBREVIATIONS

DATELINE_GRACE: Final = timedelta(days=2)

_MONTH_NAMES: Final = (
    r"Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?"
    r"|Sep(?:tember|t\.|\.|t)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?"
)
_MONTH_NUMBERS: Final = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    "ene": 1,
    "mär": 3,
    "abr": 4,
    "mai": 5,
    "ago": 8,
    "okt": 10,
    "dic": 12,
    "dez": 12,
}
"""English month names by their first three letters, and Spanish, German or Portuguese ones that differ."""
_WHOLE_MONTH_NAMES: Final = {
    name: _MONTH_NUMBERS[english.lower()] for name, english in MONTH_ABBREVIATIONS.items()
}
"""Every month name and abbreviation the feed dates know, by its number (``juin`` and ``juillet`` share
their first three letters)."""
_WEEKDAY_NUMBERS: Final = {
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
    "sunday": 7,
}
_RELATIVE_DAYS: Final = {"yesterday": -1, "today": 0, "tomorrow": 1}

_DATELINE_DATE: Final = (
    r"^\s*(?:(?P<month>\p{L}{3,10})\.?\s+(?P<day>\d{1,2})|(?P<day2>\d{1,2})\.?\s+(?P<month2>\p{L}{3,10})\.?)"
    r"(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?\s*$"
)
_DAY: Final = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR: Final = r"(?:1[89]|20)\d\d"
_MONTH_FIRST: Final = rf"\b(?:{_MONTH_NAMES})\s+{_DAY}(?:,?\s+{_YEAR})?\b"
_DAY_FIRST: Final = rf"\b{_DAY}\s+(?:{_MONTH_NAMES})(?:,?\s+{_YEAR})?\b"
_WEEKDAY: Final = r"\b(?:(?:[Ll]ast|[Nn]ext|[Tt]his|[Oo]n)\s+)?(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
_RELATIVE: Final = r"\b(?:[Yy]esterday|[Tt]oday|[Tt]omorrow)\b"
_MENTION_PATTERNS: Final = (_MONTH_FIRST, _DAY_FIRST, _WEEKDAY, _RELATIVE)
_YEAR_MENTION: Final = rf"\b{_YEAR}\b"


def _month_number(name: pl.Expr) -> pl.Expr:
    lower = name.str.to_lowercase().str.strip_chars_end(".")
    return pl.coalesce(
        lower.replace_strict(_WHOLE_MONTH_NAMES, default=None, return_dtype=pl.Int32),
        lower.str.slice(0, 3).replace_strict(_MONTH_NUMBERS, default=None, return_dtype=pl.Int32),
    )


def _make_date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """The date, or NULL when it does not exist (30 February)."""
    text = pl.format("{}-{}-{}", year.cast(pl.String), month.cast(pl.String), day.cast(pl.String))
    return text.str.to_date("%Y-%-m-%-d", strict=False)


def _dateline_dates(articles: pl.DataFrame) -> pl.Series:
    """The dateline date of each article as a Datetime (midnight), NULL when it cannot be placed."""
    parts = pl.col("dateline_date").str.extract_groups(_DATELINE_DATE)
    month = _month_number(pl.coalesce(parts.struct.field("month"), parts.struct.field("month2")))
    day = pl.coalesce(parts.struct.field("day"), parts.struct.field("day2")).cast(pl.Int32, strict=False)
    written_year = parts.struct.field("year").cast(pl.Int32, strict=False)
    text = pl.concat_str([pl.col("title").fill_null(""), pl.col("body").fill_null("")], separator="\n")
    latest_mentioned = text.str.extract_all(_YEAR_MENTION).list.eval(pl.element().cast(pl.Int32)).list.max()
    reference = pl.col("file_mtime") + pl.lit(DATELINE_GRACE)
    this_year = _make_date(reference.dt.year(), month, day).cast(pl.Datetime("us"))
    year_before = _make_date(reference.dt.year() - 1, month, day).cast(pl.Datetime("us"))
    return articles.select(
        pl.when(written_year.is_not_null())
        .then(_make_date(written_year, month, day).cast(pl.Datetime("us")))
        .when(reference.is_not_null())
        .then(pl.when(this_year <= reference).then(this_year).otherwise(year_before))
        .otherwise(_make_date(latest_mentioned, month, day).cast(pl.Datetime("us")))
        .alias("dateline_at")
    ).to_series()


def _nearest(anchor: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """The date with this month and day nearest to ``anchor``: in its year, the year before or after."""
    candidates = [_make_date(anchor.dt.year() + shift, month, day) for shift in (0, -1, 1)]
    distances = [(candidate - anchor).abs().fill_null(timedelta(days=9999)) for candidate in candidates]
    closest = pl.min_horizontal(distances)
    return (
        pl.when(distances[0] == closest)
        .then(candidates[0])
        .when(distances[1] == closest)
        .then(candidates[1])
        .otherwise(candidates[2])
    )


def _mentioned_dates(articles: pl.DataFrame) -> pl.Series:
    """The dates each body mentions, resolved against ``published_at``: sorted, distinct, List[Date]."""
    mentions = (
        articles.lazy()
        .select(
            idx=pl.int_range(pl.len(), dtype=pl.UInt32),
            anchor=pl.col("published_at").dt.date(),
            mention=pl.concat_list(
                [pl.col("body").fill_null("").str.extract_all(pattern) for pattern in _MENTION_PATTERNS]
            ),
        )
        .explode("mention")
        .drop_nulls("mention")
    )
    words = pl.col("mention").str.to_lowercase()
    month_first = pl.col("mention").str.extract_groups(
        r"^(?P<month>[A-Za-z]+)\.?\s+(?P<day>\d+)(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?$"
    )
    day_first = pl.col("mention").str.extract_groups(
        r"^(?P<day>\d+)(?:st|nd|rd|th)?\s+(?P<month>[A-Za-z]+)\.?(?:,?\s+(?P<year>\d{4}))?$"
    )
    parsed = mentions.with_columns(
        month=_month_number(pl.coalesce(month_first.struct.field("month"), day_first.struct.field("month"))),
        day=pl.coalesce(month_first.struct.field("day"), day_first.struct.field("day")).cast(
            pl.Int32, strict=False
        ),
        year=pl.coalesce(month_first.struct.field("year"), day_first.struct.field("year")).cast(
            pl.Int32, strict=False
        ),
        weekday=words.str.extract(r"(\w+day)$").replace_strict(
            _WEEKDAY_NUMBERS, default=None, return_dtype=pl.Int32
        ),
        modifier=words.str.extract(r"^(last|next|this)\s"),
        relative=words.replace_strict(_RELATIVE_DAYS, default=None, return_dtype=pl.Int32),
    )
    anchor = pl.col("anchor")
    days_back = (anchor.dt.weekday() - pl.col("weekday")).mod(7)
    days_ahead = (pl.col("weekday") - anchor.dt.weekday()).mod(7)
    weekday_date = (
        pl.when(pl.col("modifier") == "next")
        .then(anchor + pl.duration(days=(days_ahead - 1).mod(7) + 1))
        .when(pl.col("modifier") == "last")
        .then(anchor - pl.duration(days=(days_back - 1).mod(7) + 1))
        .when(pl.col("modifier") == "this")
        .then(anchor + pl.duration(days=days_ahead))
        .otherwise(anchor - pl.duration(days=days_back))
    )
    resolved = parsed.select(
        "idx",
        date=pl.when(pl.col("year").is_not_null())
        .then(_make_date(pl.col("year"), pl.col("month"), pl.col("day")))
        .when(pl.col("month").is_not_null())
        .then(_nearest(anchor, pl.col("month"), pl.col("day")))
        .when(pl.col("weekday").is_not_null())
        .then(weekday_date)
        .otherwise(anchor + pl.duration(days=pl.col("relative"))),
    )
    grouped = resolved.drop_nulls("date").group_by("idx").agg(mentioned_dates=pl.col("date").unique().sort())
    return (
        articles.lazy()
        .select(idx=pl.int_range(pl.len(), dtype=pl.UInt32))
        .join(grouped, on="idx", how="left", maintain_order="left")
        .select(pl.col("mentioned_dates").fill_null(pl.lit([], dtype=pl.List(pl.Date))))
        .collect()
        .to_series()
    )


def resolve_published_at(articles: pl.DataFrame) -> pl.DataFrame:
    """Fill ``published_at`` from the best evidence and list the dates the body mentions.

    Args:
        articles: cleaned articles with ``title``, ``body``, ``published_at``, ``published_at_source``,
            ``dateline_date`` and ``file_mtime`` (missing columns count as NULL).

    Returns:
        ``articles`` with ``published_at`` (Datetime us) and ``published_at_source`` filled where evidence
        allows (existing values are kept), and ``mentioned_dates`` (List[Date], empty when none).
    """
    frame = articles.with_columns(
        [
            pl.lit(None, dtype=dtype).alias(name)
            for name, dtype in (
                ("title", pl.String()),
                ("body", pl.String()),
                ("published_at", pl.Datetime("us")),
                ("published_at_source", pl.String()),
                ("dateline_date", pl.String()),
                ("file_mtime", pl.Datetime("us")),
            )
            if name not in articles.columns
        ]
    ).with_columns(
        pl.col("published_at").cast(pl.Datetime("us")), pl.col("file_mtime").cast(pl.Datetime("us"))
    )
    dateline_at = _dateline_dates(frame)
    known = pl.col("published_at").is_not_null()
    from_dateline = pl.lit(dateline_at).is_not_null()
    from_mtime = pl.col("file_mtime").is_not_null()
    resolved = frame.with_columns(
        published_at=pl.coalesce(pl.col("published_at"), pl.lit(dateline_at), pl.col("file_mtime")),
        published_at_source=pl.when(known)
        .then(pl.col("published_at_source"))
        .when(from_dateline)
        .then(pl.lit("dateline"))
        .when(from_mtime)
        .then(pl.lit("file_mtime")),
    )
    added = [name for name in ("published_at", "published_at_source") if name not in articles.columns]
    kept = [name for name in articles.columns if name != "mentioned_dates"]
    return resolved.with_columns(mentioned_dates=_mentioned_dates(resolved)).select(
        *kept, *added, "mentioned_dates"
    )
