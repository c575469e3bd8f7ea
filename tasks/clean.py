"""Record cleaning: Unicode and whitespace normalisation, datelines off the first paragraph, the body joined.

All of it is Polars expressions over whole columns.
"""

from __future__ import annotations

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed

_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il?)?|abr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = rf"(?:{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?|\d{{1,2}}\s+{_MONTH})(?:,?\s+(?:19|20)\d\d)?"
_PLACE_WORD = r"[\p{L}][\p{L}'’.-]*"
_UPPER_WORD = r"[\p{Lu}][\p{Lu}'’.-]+"
_UPPER_OR_SHORT_WORD = r"(?:[\p{Lu}][\p{Lu}'’.-]*|of|de|del|la|le|es|da|do|du)"
_REGION = rf"(?:,\s*{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}})"
_CAPITALISED_REGION = rf"(?:,\s*[\p{{Lu}}][\p{{L}}'’.-]*(?:\s+{_PLACE_WORD}){{0,3}})"
_AGENCY = r"(?:\s*\([^()]{1,40}\)|\s*,\s*Reuters?\b)"
_DASH = r"(?:\s+(?:--|-)\s*|\s*(?:--|-)\s+|\s*[–—]\s*)"

DATELINE_WITH_DATE_RE = (
    rf"(?s)^(?P<place>{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,4}}{_REGION}{{0,2}})\s*,\s*"
    rf"(?P<date>{_DATE})\s*,?{_AGENCY}?\s*,?{_DASH}(?P<rest>\S.*)$"
)
"""``NEW YORK, April 7 (Reuters) - ...``, ``CHICAGO, Ill., April 7 - ...``, ``Toronto, March 30 - ...``."""

DATELINE_WITHOUT_DATE_RE = (
    rf"(?s)^(?P<place>{_UPPER_WORD}(?:\s+{_UPPER_OR_SHORT_WORD}){{0,4}}{_CAPITALISED_REGION}?)"
    rf"(?P<agency>{_AGENCY})?(?P<dash>{_DASH})(?P<rest>\S.*)$"
)
"""``WASHINGTON — ...``, ``PARIS (AFP) - ...``, ``WINSTON-SALEM, N.C. - ...``: only before real prose."""

NOT_A_PLACE_RE = (
    r"^(?:UPDATE\s*\d*|UPDATED|CORRECTED|CORRECTION|REFILE|RPT|REPEAT|BREAKING(?:\s+NEWS)?|EXCLUSIVE|ANALYSIS"
    r"|FACTBOX|INTERVIEW|COLUMN|OPINION|EDITORIAL|COMMENT|REVIEW|WRAPUP|LIVE|VIDEO|WATCH|PHOTOS?|NOTE|NOTICE"
    r"|WARNING|ADVISORY|URGENT|FLASH|ALERT|TABLE|TOTAL|TOTALS|NOTES?|SOURCE|SUMMARY|UPDATE"
    r"|JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
    r"|MONDAY|TUESDAY|WEDNESDAY|THURSDAY|FRIDAY|SATURDAY|SUNDAY)$"
)
"""Upper-case openings of wire slugs and headings that are not datelines."""

PROSE_OPENING_RE = r"^[\p{Lu}\"“‘'(<]"
PROSE_HEAD_RE = r"^(\S+(?:\s+\S+){0,14})"
PROSE_MIN_LOWERCASE_WORDS = 4
PROSE_MIN_LOWERCASE_WORDS_SHORT = 2
"""A dateline without a date is taken only before prose, judged on the next 15 words: at least
``PROSE_MIN_LOWERCASE_WORDS`` lower-case words; or ``PROSE_MIN_LOWERCASE_WORDS_SHORT`` when the dash is an
em/en dash or an agency is named, or when half the words are lower case and none holds a digit."""

_INVISIBLE_RE = r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b\u2060\ufeff]"


def clean_text(text: pl.Expr, *, collapse_spaces: bool = True) -> pl.Expr:
    """Unicode NFC, control and zero-width characters removed, whitespace normalised, trimmed.

    Args:
        text: A String expression.
        collapse_spaces: Whether a run of whitespace becomes one space. Without it, each tab, newline,
            non-breaking or other Unicode space becomes one space and runs of spaces stay as written.

    Returns:
        The cleaned String expression (an empty string where nothing is left).
    """
    is_ascii = text.str.len_bytes() == text.str.len_chars()
    non_ascii_nfc = pl.when(is_ascii).then(pl.lit("")).otherwise(text).str.normalize("NFC")
    whitespace = r"\s{2,}|[^\S ]" if collapse_spaces else r"[^\S ]"
    return (
        pl.when(is_ascii)
        .then(text)
        .otherwise(non_ascii_nfc)
        .str.replace_all(_INVISIBLE_RE, "")
        .str.replace_all(whitespace, " ")
        .str.strip_chars(" ")
    )


def extract_datelines(frame: pl.DataFrame) -> pl.DataFrame:
    """Finds the dateline at the start of the first paragraph and takes it off.

    A dateline is a place, optionally a date as written, an optional agency in parentheses (``(AFP)``,
    ``(Reuters)``) and a dash (``—``, ``–``, ``-``, ``--``). With a date (``LONDON, March 3 -``) the place
    may be in any case; without one (``WASHINGTON —``) the place must be in capitals, not a wire slug, and
    what follows must read as prose, so table rows, prices and headings such as
    ``COPPER GRADE A - 2650 tonnes`` or ``NEW ZEALAND EXCHS CLOSE - April 7`` are left alone.

    Args:
        frame: Records with ``paragraphs`` (List of String); an optional ``quarantine_reason`` column makes
            quarantined rows pass through.

    Returns:
        ``frame`` with ``dateline`` (the place as written, e.g. ``CAMBRIDGE, Mass.``), ``dateline_date`` (e.g.
        ``March 26``; NULL when none) and ``paragraphs`` whose first element no longer carries the dateline.
    """
    first_paragraph = pl.col("paragraphs").list.first()
    with_date = first_paragraph.str.extract_groups(DATELINE_WITH_DATE_RE)
    without_date = first_paragraph.str.extract_groups(DATELINE_WITHOUT_DATE_RE)
    undated_rest = without_date.struct.field("rest")
    prose_head = undated_rest.str.extract(PROSE_HEAD_RE)
    lowercase_words = prose_head.str.count_matches(r"(?:^|\s)\p{Ll}")
    words = prose_head.str.count_matches(r"\S+")
    typographic_dateline = without_date.struct.field("agency").is_not_null() | without_date.struct.field(
        "dash"
    ).str.contains("[–—]")
    reads_as_prose = (lowercase_words >= PROSE_MIN_LOWERCASE_WORDS) | (
        (lowercase_words >= PROSE_MIN_LOWERCASE_WORDS_SHORT)
        & (typographic_dateline | ((2 * lowercase_words >= words) & ~prose_head.str.contains(r"\d")))
    )
    undated_is_dateline = (
        without_date.struct.field("place").is_not_null()
        & ~without_date.struct.field("place").str.contains(NOT_A_PLACE_RE)
        & undated_rest.str.contains(PROSE_OPENING_RE)
        & reads_as_prose
    )
    active = pl.col("quarantine_reason").is_null() if "quarantine_reason" in frame.columns else pl.lit(True)
    dated = active & with_date.struct.field("place").is_not_null()
    undated = active & ~dated & undated_is_dateline
    rest = (
        pl.when(dated).then(with_date.struct.field("rest")).when(undated).then(undated_rest).str.strip_chars()
    )
    return frame.with_columns(
        pl.when(dated)
        .then(with_date.struct.field("place"))
        .when(undated)
        .then(without_date.struct.field("place"))
        .str.strip_chars()
        .alias("dateline"),
        pl.when(dated).then(with_date.struct.field("date").str.strip_chars()).alias("dateline_date"),
        pl.when(dated | undated)
        .then(pl.concat_list(rest, pl.col("paragraphs").list.slice(1)))
        .otherwise(pl.col("paragraphs"))
        .alias("paragraphs"),
    )


def clean_records(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalises records' text, extracts datelines and joins the body.

    Args:
        frame: Parsed records (``RECORDS_SCHEMA``): ``title``, ``paragraphs``, ``caption``, ``related`` and
            ``quarantine_reason`` are used.

    Returns:
        ``frame`` with ``title``, ``caption``, ``paragraphs`` and ``related`` cleaned (NFC, whitespace
        normalised, control characters removed; empty paragraphs and related items dropped, empty title and
        caption NULL; the title keeps runs of spaces as written, so it stays equal to its source line),
        ``dateline`` and ``dateline_date`` from :func:`extract_datelines`, and ``body``: the paragraphs
        joined by one blank line. Rows with a ``quarantine_reason`` keep their values and get NULL
        ``body``, ``dateline`` and ``dateline_date``.
    """
    active = pl.col("quarantine_reason").is_null()

    def cleaned_or_null(name: str, *, collapse_spaces: bool = True) -> pl.Expr:
        value = clean_text(pl.col(name), collapse_spaces=collapse_spaces)
        return pl.when(active).then(pl.when(value != "").then(value)).otherwise(pl.col(name)).alias(name)

    def cleaned_list(name: str) -> pl.Expr:
        values = (
            pl.col(name)
            .list.eval(clean_text(pl.element()))
            .list.eval(pl.element().filter(pl.element() != ""))
        )
        return pl.when(active).then(values).otherwise(pl.col(name)).alias(name)

    cleaned = frame.with_columns(
        cleaned_or_null("title", collapse_spaces=False),
        cleaned_or_null("caption"),
        cleaned_list("paragraphs"),
        cleaned_list("related"),
    )
    with_datelines = extract_datelines(cleaned).with_columns(
        pl.when(active)
        .then(pl.col("paragraphs").list.eval(pl.element().filter(pl.element() != "")))
        .otherwise(pl.col("paragraphs"))
        .alias("paragraphs")
    )
    return with_datelines.with_columns(
        pl.when(active).then(pl.col("paragraphs").list.join("\n\n")).alias("body"),
    )


@task(name="clean_articles", cache_policy=NO_CACHE)
def clean_articles(records: pl.DataFrame) -> pl.DataFrame:
    """The cleaning step under the name the ingest flow imports; see :func:`clean_records`.

    Args:
        records: Parsed records (any extra columns are kept).

    Returns:
        The records cleaned, with ``body``, ``dateline`` and ``dateline_date``.
    """
    with timed("clean"):
        return clean_records(records)
