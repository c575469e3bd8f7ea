"""Record cleaning: Unicode and whitespace normalisation, datelines off the first paragraph, the body joined.

All of it is Polars expressions over whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.timing import timed
from tasks.data_files import entity_rows
from tasks.months import MONTH_ABBREVIATIONS
from tasks.parse_text import DATE_PARAGRAPH_RE, RELATED_RE, TRAILER_RES

_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il?)?|abr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_FOREIGN_MONTH = rf"(?i:{'|'.join(sorted(MONTH_ABBREVIATIONS, key=len, reverse=True))})\.?"
"""French, Spanish, German, Italian and Portuguese month names and abbreviations, read next to a day."""
_DATE = (
    rf"(?:{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?|\d{{1,2}}\.?\s+(?:{_MONTH}|{_FOREIGN_MONTH})"
    rf"|{_FOREIGN_MONTH}\s+\d{{1,2}})(?:,?\s+(?:19|20)\d\d)?"
)
_PLACE_WORD = r"[\p{L}][\p{L}'’.-]*"
_UPPER_WORD = r"[\p{Lu}][\p{Lu}'’.-]+"
_UPPER_OR_SHORT_WORD = r"(?:[\p{Lu}][\p{Lu}'’.-]*|of|de|del|la|le|es|da|do|du)"
_REGION = rf"(?:,\s*{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,3}})"
_CAPITALISED_REGION = rf"(?:,\s*[\p{{Lu}}][\p{{L}}'’.-]*(?:\s+{_PLACE_WORD}){{0,3}})"
_AGENCY = r"(?:\s*\([^()]{1,40}\)|\s*,\s*Reuters?\b)"
_DASH = r"(?:\s+(?:--|-)\s*|\s*(?:--|-)\s+|\s*[–—]\s*)"

DATELINE_WITH_DATE_RE = (
    rf"(?s)^(?P<place>{_PLACE_WORD}(?:\s+{_PLACE_WORD}){{0,4}}{_REGION}{{0,2}})\s*,\s*"
    rf"(?P<date>{_DATE})\s*,?{_AGENCY}?\s*,?\.?{_DASH}(?P<rest>\S.*)$"
)
"""``NEW YORK, April 7 (Reuters) - ...``, ``CHICAGO, Ill., April 7 - ...``, ``Toronto, March 30 - ...``."""

DATELINE_WITHOUT_DATE_RE = (
    rf"(?s)^(?P<place>{_UPPER_WORD}(?:\s+{_UPPER_OR_SHORT_WORD}){{0,4}}{_CAPITALISED_REGION}?)"
    rf"(?P<agency>{_AGENCY})?\.?(?P<dash>{_DASH})(?P<rest>\S.*)$"
)
"""``WASHINGTON — ...``, ``PARIS (AFP) - ...``, ``WINSTON-SALEM, N.C. - ...``: only before real prose."""

_TITLE_WORD = r"[\p{Lu}][\p{L}'’.-]*"
_STATE_ABBREVIATIONS = sorted(
    {row["abbrev"] for row in entity_rows("region_abbrev.csv") if row["abbrev"].endswith(".")},
    key=len,
    reverse=True,
)
_STATE_ABBREVIATION = "(?:{})".format("|".join(abbrev.replace(".", r"\.") for abbrev in _STATE_ABBREVIATIONS))
"""A US state's or Canadian province's abbreviation as datelines write it ("Ill.", "N.Y.", "Ont."), from the
gazetteer's ``region_abbrev.csv``."""
DATELINE_TITLE_CASE_RE = (
    rf"(?s)^(?P<place>{_TITLE_WORD}(?:\s+{_TITLE_WORD}){{0,3}})"
    rf"(?:\s*\((?P<credit>[^()\d]{{2,30}})\)(?P<dash>{_DASH})?|,\s*(?P<state>{_STATE_ABBREVIATION}){_DASH})"
    r"(?P<rest>\S.*)$"
)
"""``Washington (CNN) -- ...``, ``Hong Kong (CNN Business)A ...``, ``Rostow (dpa) - ...``, ``Dekalb, Ill. —``:
a place in title case, then a credit in parentheses or a state's or province's abbreviation. Without a
dash, the credit must be an agency's (:data:`AGENCY_CREDIT_RE`)."""

BARE_CREDIT_RE = rf"(?s)^\((?P<credit>[^()\d]{{2,30}})\)(?:{_DASH})?(?P<rest>\S.*)$"
"""``(CNN)President ...``, ``(Reuters) — The ...``: an agency's credit with no place, taken off the story."""

AGENCY_CREDIT_RE = (
    r"^(?:\p{Lu}{2,}(?:\s+\p{Lu}\p{Ll}+)?|dpa|Reuters|\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}+)+"
    r"|(?:Bloomberg|Kyodo|Anadolu|Dow Jones)(?:\s+\p{Lu}\p{Ll}+)?|Xinhua|Yonhap|Tass|Interfax|Bernama)$"
)
"""``CNN``, ``CNN Business``, ``AFP``, ``dpa``, ``Reuters``, ``HawaiiNewsNow``."""

NOT_A_TITLE_CASE_PLACE_RE = (
    r"^(?:The|A|An|This|That|These|Those|Mr|Mrs|Ms|Dr|Sir|It|He|She|We|They|I|In|On|At|For|But|And|Or|So"
    r"|If|When|While|President|Prime|Minister|Senator|Rep|Gov|Governor|Mayor|Chief|General|Judge)\b"
)

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

EXTRA_TRAILER_RES: tuple[str, ...] = (
    r"^[-_=*#~.•·]{3,}$",
    r"\bcontributed\s+(?:reporting\s+)?to\s+this\s+(?:report|story|article)\.?$",
    r"©|\((?i:c)\)\s*\d{4}|(?i:all\s+rights\s+reserved)",
    r"^[a-z]{2,5}(?:[-/][a-z]{1,5})*/[a-z]{1,5}$",
    r"^(?i:follow)\b[^\n]*https?://",
    r"^(?i:sign\s+up|subscribe)\b[^\n]*\b(?i:newsletters?)\b",
    r"^The post\b[^\n]*\bappeared first on\b",
    r"^(?i:subscribe\s+now|cancel\s+anytime|already\s+a\s+subscriber\??(?:\s+(?:sign|log)\s+in)?|sign\s+in"
    r"|log\s+in|skip\s+past\s+newsletter\s+promotion|after\s+newsletter\s+promotion|advertisement|anzeige"
    r"|werbung|publicidad|publicité|comentarios|commentaires|kommentare|comments|normas\s*›?"
    r"|mis\s+comentarios)[.!]?$",
    r"^\d+\s*(?:/|of|de|von|sur)\s*\d+$",
    r"^(?i:free\s+(?:daily|weekly|monthly)\s+newsletter|privacy\s+notice:)",
    r"\b(?i:can\s+be\s+reached\s+at)\s[^\n]*(?:@|\d{3})|\b(?i:may\s+be\s+republished)\b",
    r"^(?i:get\s+unlimited\s+access)\b",
    r"^--\s*(?i:with\s+assistance\s+from)\s",
    r"^(?i:to\s+contact\s+the\s+(?:reporters?|editors?|authors?)\s+(?:on|responsible\s+for)\s+this\s+story)",
    r"^\p{Lu}[^\n]{0,100}\sat\s+\S+@\S+\.[a-z]{2,}\.?$",
)
"""Trailer paragraphs of any format, beside :data:`tasks.parse_text.TRAILER_RES`: separator rules, "X
contributed to this report", copyright lines, AFP's desk slugs (``afp/jm/ach``), "Follow ... at
https://...", newsletter sign-ups, paywall and comment chrome ("Subscribe now", "Already a subscriber?",
"Anzeige", "Comentarios"), gallery counters ("1 of 15"), contact and republishing notes (Bloomberg's "To
contact the reporter on this story:", "Jane Doe in London at jdoe@bloomberg.net", "--With assistance from
..."), and WordPress's "The post X appeared first on Y"."""
NEWSLETTER_RE = r"(?i)newsletter"
SIGN_UP_RE = r"(?i)\b(?:sign\s+up|subscribe|apúntate|apuntarte|abonnieren|inscrivez|iscriviti)\b"
"""A short paragraph with both is a newsletter sign-up, in any order (two searches: as one pattern with
both orders it took most of the cleaning's time)."""
TRAILER_PARAGRAPH_RES = (*TRAILER_RES, *EXTRA_TRAILER_RES)
"""Matched one at a time: as one alternation they take several times longer."""
MAX_TRAILER_BYTES = 400
"""Longer paragraphs are prose: no trailer pattern is tried on them."""
TRUNCATION_MARK_RE = r"\s*…?\s*\[\+\d+ chars\]$"
"""NewsAPI's ``… [+2871 chars]`` at the end of a truncated ``content``."""

_BYLINE_WORD = r"(?:[\p{Lu}][\p{L}.'’-]*|(?:de|da|di|du|van|von|der|den|la|le|del|dos|bin|al)\b)"
_BYLINE_NAME = rf"{_BYLINE_WORD}(?:\s+{_BYLINE_WORD}){{0,4}}"
_BYLINE_NAMES = rf"{_BYLINE_NAME}(?:\s*(?:,|and|und|et|y|&)\s+{_BYLINE_NAME}){{0,3}}"
_BYLINE_LEAD_INS = ("By", "BY", "Von", "VON", "Par", "PAR", "Por", "POR", "Door")
"""The words before a byline's names, as they are written."""
_LEAD_IN = "|".join(_BYLINE_LEAD_INS)
BYLINE_PARAGRAPH_RE = (
    rf"^(?:{_LEAD_IN}|Av)\s+(?P<names>{_BYLINE_NAMES})\s*(?:[-–—|,·]\s*.{{0,80}})?$"
)
"""A page's byline line: ``By François Dubois - Published 24 July 2025``, ``Von Katrin Müller``."""
CAPTION_LABEL_RE = (
    r"^(?:(?i:photo|image|caption|picture|foto|image\s+caption)\s*[:,]\s*|\d+\s*(?:/|of)\s*\d+\s+)"
)
"""A label before a caption: ``Photo: Rescue workers ...``, ``Image caption, ...``, a gallery's ``1 / 15``."""
CAPTION_CHROME_RE = (
    r"\s*(?i:purchase\s+licensing\s+rights[^\n]*|,?\s*opens\s+new\s+tab|read\s+more|expand)\s*$"
)
"""Link text after a caption: ``Purchase Licensing Rights, opens new tab``, ``Read More``."""
MAX_STANDFIRST_WORDS = 45
"""A page's first paragraph this short may be a standfirst, with the dateline opening the second."""
STAMP_WORDS_RE = r"^(?:(?i:posted|updated|published|last\s+updated|modified)\s*[,;|:·]?\s*)+$"
"""What is left of a page's time stamps when their times are elements of their own: ``Posted , updated``."""
MAX_RELATED_BYTES = 400
NOTHING_LEFT = "no story text left after cleaning (only a dateline, page furniture or trailers)"
"""Why a record whose paragraphs cleaning removed is quarantined instead of written with an empty body."""
PAGE_FORMATS = ("html", "feed", "json")
"""Formats whose records come from a page's or feed's markup, with its furniture, not from a text layout."""
LEADING_FURNITURE_PARAGRAPHS = 4
"""How many leading paragraphs of a page or feed entry are checked for kicker, headline, byline and date."""
_ROLE = r"(?:Writers?|Correspondents?|Reporters?|Editors?|Columnist|Contributor|Journalist)"
BYLINE_ROLE_RE = (
    rf"(?:\s*,\s*(?:[\p{{L}}-]+\s+){{0,3}}{_ROLE}"
    rf"|\s+(?:AP|Associated\s+Press|Reuters|AFP|Bloomberg|PA)\s+(?:[\p{{L}}-]+\s+){{0,3}}{_ROLE}"
    rf"|\s+(?:Staff|Senior|Chief|Political|Business|Foreign|Diplomatic|Economics|Special|Contributing)"
    rf"\s+(?:[\p{{L}}-]+\s+){{0,2}}{_ROLE})$"
)
"""A role after the names of a byline: ``, Political Correspondent``, ``AP Business Writer``."""
NOT_BYLINE_NAME_RE = (
    r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June"
    r"|July|August|September|October|November|December|The|This|That|Then|Now|Early|Late|Last|Next)\b"
)
"""Words that start a sentence after "By", not a name."""
BYLINE_DATE_RE = (
    r"[\s,|·-]+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Published|Updated|Posted)\b.*$"
)
"""A date run on after the names: ``MIKE CORDER, Associated Press Wednesday, February 12, 2025``."""
BYLINE_OUTLET_RE = (
    r"\s+(?:The\s+)?(?:Associated\s+Press|Reuters|Agence\s+France-Presse|AFP|Bloomberg(?:\s+News)?)$"
)


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
        A page, feed entry or JSON record whose first paragraph is a standfirst (up to
        :data:`MAX_STANDFIRST_WORDS` words, no dateline) may have its dateline open the second.
    """
    active = pl.col("quarantine_reason").is_null() if "quarantine_reason" in frame.columns else pl.lit(True)
    first = _dateline_of(pl.col("paragraphs").list.first())
    in_first = active & first.found
    found = frame.with_columns(
        pl.when(in_first).then(first.place).alias("dateline"),
        pl.when(in_first).then(first.date).alias("dateline_date"),
        pl.when(in_first)
        .then(pl.concat_list(first.rest, pl.col("paragraphs").list.slice(1)))
        .otherwise(pl.col("paragraphs"))
        .alias("paragraphs"),
    )
    if "raw_format" not in frame.columns:
        return found.with_columns(_without_period(pl.col("dateline")))
    page = pl.col("raw_format").is_in(PAGE_FORMATS).fill_null(False)
    if not frame.select(page.any()).item():
        return found.with_columns(_without_period(pl.col("dateline")))
    standfirst = (
        active
        & ~in_first
        & page
        & (pl.col("paragraphs").list.first().str.count_matches(r"\S+") <= MAX_STANDFIRST_WORDS)
    )
    numbered = found.with_row_index("_row")
    candidates = numbered.filter(frame.select(standfirst).to_series())
    second = _dateline_of(pl.col("paragraphs").list.get(1, null_on_oob=True))
    after_standfirst = candidates.filter(second.found).select(
        "_row",
        _place=second.place,
        _date=second.date,
        _paragraphs=pl.concat_list(
            pl.col("paragraphs").list.slice(0, 1), second.rest, pl.col("paragraphs").list.slice(2)
        ),
    )
    return (
        numbered.join(after_standfirst, on="_row", how="left", maintain_order="left")
        .with_columns(
            _without_period(pl.coalesce("dateline", "_place")).alias("dateline"),
            pl.when(pl.col("_place").is_not_null())
            .then(pl.col("_date"))
            .otherwise(pl.col("dateline_date"))
            .alias("dateline_date"),
            pl.coalesce("_paragraphs", "paragraphs").alias("paragraphs"),
        )
        .select(found.columns)
    )


def _without_period(place: pl.Expr) -> pl.Expr:
    """``MADRID.`` without its period; ``CHICAGO, Ill.`` keeps its abbreviation's."""
    return place.str.replace(r"^([^,.]*\p{Lu}{3,})\.$", "$1")


@dataclass(frozen=True)
class _Dateline:
    found: pl.Expr
    place: pl.Expr
    date: pl.Expr
    rest: pl.Expr


def _lowercase_words(head: pl.Expr) -> pl.Expr:
    """How many words of ``head`` start in lower case: prose has several, headings and tables few."""
    return head.str.count_matches(r"(?:^|\s)\p{Ll}")


def _dateline_of(paragraph: pl.Expr) -> _Dateline:
    with_date = paragraph.str.extract_groups(DATELINE_WITH_DATE_RE)
    without_date = paragraph.str.extract_groups(DATELINE_WITHOUT_DATE_RE)
    undated_rest = without_date.struct.field("rest")
    prose_head = undated_rest.str.extract(PROSE_HEAD_RE)
    lowercase_words = _lowercase_words(prose_head)
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
    dated = with_date.struct.field("place").is_not_null()
    undated = undated_is_dateline.fill_null(False)
    titled = paragraph.str.extract_groups(DATELINE_TITLE_CASE_RE)
    titled_rest = titled.struct.field("rest")
    titled_place = pl.concat_str(
        titled.struct.field("place"), pl.lit(", ") + titled.struct.field("state"), ignore_nulls=True
    )
    agency_or_state = titled.struct.field("state").is_not_null() | titled.struct.field("credit").str.contains(
        AGENCY_CREDIT_RE
    )
    titled_lowercase_words = _lowercase_words(titled_rest.str.extract(PROSE_HEAD_RE))
    in_title_case = (
        titled.struct.field("place").is_not_null()
        & ~titled.struct.field("place").str.to_uppercase().str.contains(NOT_A_PLACE_RE)
        & ~titled.struct.field("place").str.contains(NOT_A_TITLE_CASE_PLACE_RE)
        & (agency_or_state | titled.struct.field("dash").is_not_null())
        & titled_rest.str.contains(PROSE_OPENING_RE)
        & (
            titled_lowercase_words
            >= pl.when(agency_or_state)
            .then(PROSE_MIN_LOWERCASE_WORDS_SHORT)
            .otherwise(PROSE_MIN_LOWERCASE_WORDS)
        )
    ).fill_null(False)
    bare = paragraph.str.extract_groups(BARE_CREDIT_RE)
    bare_credit = (
        bare.struct.field("credit").str.contains(AGENCY_CREDIT_RE)
        & bare.struct.field("rest").str.contains(PROSE_OPENING_RE)
    ).fill_null(False)
    return _Dateline(
        found=dated | undated | in_title_case | bare_credit,
        place=pl.when(dated)
        .then(with_date.struct.field("place"))
        .when(undated)
        .then(without_date.struct.field("place"))
        .when(in_title_case)
        .then(titled_place)
        .str.strip_chars(),
        date=pl.when(dated).then(with_date.struct.field("date").str.strip_chars()),
        rest=pl.when(dated)
        .then(with_date.struct.field("rest"))
        .when(undated)
        .then(undated_rest)
        .when(in_title_case)
        .then(titled_rest)
        .when(bare_credit)
        .then(bare.struct.field("rest"))
        .str.strip_chars(),
    )


def _comparable(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")


def strip_furniture(frame: pl.DataFrame) -> pl.DataFrame:
    """Takes page furniture and trailers out of the paragraphs, and fills ``byline`` from a byline line.

    Every format loses trailer paragraphs (:data:`TRAILER_PARAGRAPH_RES`) and NewsAPI's truncation mark,
    and related-story lines (``Read more: ...``, ``Lire aussi | ...``) move to ``related``.
    Pages, feed entries and JSON records (not plain text, whose parser reads its own header lines) also
    lose, among their first :data:`LEADING_FURNITURE_PARAGRAPHS` paragraphs, the headline repeated, a
    short kicker before it, a byline line and a line holding only a date or time; the first byline line
    fills a missing ``byline``.

    Args:
        frame: Records with ``paragraphs``, ``title``, ``byline``, ``raw_format`` and ``quarantine_reason``.
    """
    active = pl.col("quarantine_reason").is_null()
    paragraph = pl.element()
    sign_up = paragraph.str.contains(NEWSLETTER_RE) & paragraph.str.contains(SIGN_UP_RE)
    trailer = (paragraph.str.len_bytes() <= MAX_TRAILER_BYTES) & pl.any_horizontal(
        [*(paragraph.str.contains(pattern) for pattern in TRAILER_PARAGRAPH_RES), sign_up]
    )
    related = (paragraph.str.len_bytes() <= MAX_RELATED_BYTES) & paragraph.str.contains(RELATED_RE)
    story = pl.col("paragraphs").list.eval(
        paragraph.filter(~trailer & ~related).str.replace(TRUNCATION_MARK_RE, "…")
    )
    found_related = pl.col("paragraphs").list.eval(
        paragraph.filter(related).str.extract(RELATED_RE, 1).str.strip_chars()
    )
    frame = frame.with_columns(
        pl.when(active).then(story).otherwise(pl.col("paragraphs")).alias("paragraphs"),
        pl.when(active & (found_related.list.len() > 0))
        .then(pl.concat_list(pl.col("related").fill_null([]), found_related))
        .otherwise(pl.col("related"))
        .alias("related"),
    )
    page = active & pl.col("raw_format").is_in(PAGE_FORMATS).fill_null(False)
    numbered = frame.with_row_index("_row")
    pages = numbered.filter(page)
    if pages.is_empty():
        return frame
    heads = (
        pages.select(
            "_row",
            title=_comparable(pl.col("title").fill_null("")),
            paragraph=pl.col("paragraphs").list.head(LEADING_FURNITURE_PARAGRAPHS),
        )
        .with_columns(position=pl.int_ranges(pl.col("paragraph").list.len(), dtype=pl.UInt32))
        .explode("paragraph", "position")
    )
    text = pl.col("paragraph")
    repeated_title = (_comparable(text) == pl.col("title")) & (pl.col("title") != "")
    kicker = (
        (text.str.count_matches(r"\S+") <= 4)
        & ~text.str.contains(r"[.!?:;”\"]$")
        & repeated_title.shift(-1).over("_row").fill_null(False)
    )
    flagged = heads.with_columns(byline=byline_names(text)).with_columns(
        furniture=repeated_title
        | pl.col("byline").is_not_null()
        | text.str.contains(DATE_PARAGRAPH_RE)
        | text.str.contains(STAMP_WORDS_RE)
        | kicker
    )
    rebuilt = flagged.group_by("_row").agg(
        head=text.filter(~pl.col("furniture").fill_null(True)),
        found=pl.col("byline").drop_nulls().first(),
    )
    merged = numbered.join(rebuilt, on="_row", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("head").is_not_null())
        .then(pl.concat_list("head", pl.col("paragraphs").list.slice(LEADING_FURNITURE_PARAGRAPHS)))
        .otherwise(pl.col("paragraphs"))
        .alias("paragraphs"),
        pl.coalesce("byline", "found").alias("byline"),
    )
    return merged.select(frame.columns)


def byline_names(line: pl.Expr) -> pl.Expr:
    """The names of a byline line (:data:`BYLINE_PARAGRAPH_RE`), NULL for a sentence that starts the same
    way ("By Tuesday, officials had ...")."""
    names = line.str.extract(BYLINE_PARAGRAPH_RE, 1)
    sentence = line.str.contains(r"[.!?]$") | names.str.contains(NOT_BYLINE_NAME_RE)
    return pl.when(~sentence).then(clean_byline(names))


_LOWER_LEAD_IN = "|".join(dict.fromkeys(word.lower() for word in _BYLINE_LEAD_INS))
BYLINE_LEAD_IN_RE = rf"^(?:{_LEAD_IN}|{_LOWER_LEAD_IN})\s+(\p{{Lu}})"
"""The "By" before a byline's names, as APIs and feeds write it in the author field: ``By Jane Smith``."""


def clean_byline(byline: pl.Expr) -> pl.Expr:
    """A byline without a lead-in ("By") before its names, or the role, outlet or date after them (``By Jane
    Smith, Political Correspondent`` -> ``Jane Smith``)."""
    return (
        byline.str.replace(BYLINE_LEAD_IN_RE, "$1")
        .str.replace(BYLINE_DATE_RE, "")
        .str.replace(BYLINE_ROLE_RE, "")
        .str.replace(BYLINE_OUTLET_RE, "")
        .str.strip_chars(" ,;")
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
        ``body``, ``dateline`` and ``dateline_date``; a row with no paragraph left gets the reason
        :data:`NOTHING_LEFT` and a NULL ``body``.
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
        cleaned_or_null("caption").str.replace(CAPTION_LABEL_RE, "").str.replace(CAPTION_CHROME_RE, ""),
        cleaned_list("paragraphs"),
        cleaned_list("related"),
    )
    if "byline" in cleaned.columns:
        cleaned = cleaned.with_columns(clean_byline(pl.col("byline")).alias("byline"))
    if {"raw_format", "byline", "title"} <= set(cleaned.columns):
        cleaned = strip_furniture(cleaned)
    with_datelines = extract_datelines(cleaned).with_columns(
        pl.when(active)
        .then(pl.col("paragraphs").list.eval(pl.element().filter(pl.element() != "")))
        .otherwise(pl.col("paragraphs"))
        .alias("paragraphs")
    )
    emptied = active & (pl.col("paragraphs").list.len() == 0)
    return with_datelines.with_columns(
        pl.when(emptied)
        .then(pl.lit(NOTHING_LEFT))
        .otherwise(pl.col("quarantine_reason"))
        .alias("quarantine_reason"),
        pl.when(active & ~emptied).then(pl.col("paragraphs").list.join("\n\n")).alias("body"),
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
