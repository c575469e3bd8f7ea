"""Plain-text article files to records: headline, metadata header, caption, body paragraphs, related links.

Handles the layouts landing folders carry: a headline line then blank-line separated paragraphs (BBC), wire
copy with hard-wrapped paragraphs (Reuters), and newsroom exports with a repeated headline, a photo caption,
``READ: ...`` related-story lines and trailers such as ``Read more...``. Optional labelled header lines at the
top (``Title:``, ``By ...``, ``Published: ...``, ``Source: ...``, ``URL: ...``) become metadata.

Everything runs on exploded lines and paragraphs in Polars; there is no per-article Python loop.
"""

from __future__ import annotations

import polars as pl

from tasks.schema import RECORDS_SCHEMA, conform

MAX_TITLE_CHARS = 300
"""A first line longer than this is a body paragraph of a file without a headline, not a headline."""

WRAPPED_LINE_CHARS = 100
WRAPPED_LINE_SHARE = 0.5
MIN_WRAP_WIDTH = 40
"""Hard-wrapped text: at least ``WRAPPED_LINE_SHARE`` of the body lines are at most ``WRAPPED_LINE_CHARS``
long, and the lines followed by another line of their block are ``MIN_WRAP_WIDTH`` long or more (median).
There a single newline is a line wrap; elsewhere it separates paragraphs."""

MAX_BYLINE_CHARS = 80
MAX_HEADER_VALUE_CHARS = 100
"""A ``Source:`` or ``By:`` line with a longer value is prose, not a header."""
MAX_RELATED_CHARS = 300
MAX_REPEATED_TITLE_POSITION = 1
"""The repeated headline is dropped only from the first paragraphs (0-based position up to this)."""

_WORD = r"[\p{Lu}][\p{L}.'’-]*"
_NAME_JOIN = r"(?:\s*,\s*|\s+(?:and|&)\s+|\s+(?:(?:de|da|di|van|von|der|den|la|le|bin|al|du|del|dos)\s+)*)"

MAX_LABEL_CHARS = 26
LABEL_RE = r"^(?P<label>[\p{L}][\p{L} ]{0,24}?)\s*:\s*(?P<value>\S.*?)\s*$"
"""A ``Label: value`` header line; the label is looked up in ``LABEL_KINDS``."""

_LABELS_BY_KIND: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "head", "hed"),
    "byline": ("by", "byline", "author", "authors", "written by", "reporter"),
    "published": (
        "published",
        "first published",
        "published on",
        "published at",
        "date",
        "posted",
        "posted on",
        "pubdate",
        "pub date",
        "publication date",
    ),
    "updated": ("updated", "last updated", "updated on", "updated at", "modified"),
    "source": ("source", "publisher", "publication", "agency"),
    "url": ("url", "link", "canonical", "canonical url", "permalink", "original url"),
    "language": ("language", "lang"),
    "description": ("description", "summary", "standfirst", "subtitle", "subheadline", "dek"),
    "meta": ("category", "section", "tags", "keywords", "topic", "topics", "id", "slug", "word count"),
}
LABEL_KINDS: dict[str, str] = {label: kind for kind, labels in _LABELS_BY_KIND.items() for label in labels}
"""Header labels (lower case) and what their value is."""

_CLOCK = r"\d{1,2}[:.h]\d{2}"
DATE_PARAGRAPH_RE = (
    r"^(?i:posted|published|updated|last\s+updated|modified|veröffentlicht|aktualisiert|publié|mis\s+à\s+jour"
    r"|publicado|actualizado)?\s*(?i:on|am|le|el)?\s*:?\s*(?:"
    rf"[\d./-]{{6,10}}(?:,?\s*{_CLOCK}(?:\s*(?i:uhr|h|am|pm|a\.m\.|p\.m\.))?)?(?:\s*[A-Z]{{2,4}})?"
    rf"|(?:\p{{L}}+,?\s+)?(?:\d{{1,2}}\.?\s+\p{{L}}+\.?|\p{{L}}+\.?\s+\d{{1,2}}(?:st|nd|rd|th)?),?\s+\d{{4}}"
    rf"(?:,?\s*(?:at\s+)?{_CLOCK}(?:\s*(?i:uhr|h|am|pm|a\.m\.|p\.m\.))?)?(?:\s*[A-Z]{{2,4}})?"
    r"|\d+\s+(?i:minutes?|hours?|days?)\s+ago"
    r")?\s*$"
)
"""A line of page furniture holding a date, a time or only ``Posted``: ``18.03.2025, 16:55 Uhr``,
``Wednesday, February 12, 2025 6:14 AM``, ``Published 24 July 2025``, ``Updated 3 hours ago``."""
FRONT_MATTER_FENCE_RE = r"^(?:-{3,}|\+{3,})$"
"""The ``---`` lines around YAML (or ``+++`` around TOML) front matter: never a headline."""
MARKDOWN_HEADING_RE = r"^#{1,6}\s+"
MARKDOWN_EMPHASIS_RE = r"^\*{1,2}([^*\s](?:.*[^*\s])?)\*{1,2}$"
"""A line wholly in Markdown emphasis (``**By Jane Smith**``, ``*Updated May 2*``): its text."""
MARKDOWN_IMAGE_RE = r"^!\[[^\]]*\]\([^)]*\)$"
URL_VALUE_RE = r"^https?://\S+$"
LANGUAGE_VALUE_RE = r"^[A-Za-z]{2}(?:[-_][A-Za-z]{2,4})?$"
BARE_BYLINE_RE = rf"^(?:By|BY)\s+{_WORD}(?:{_NAME_JOIN}{_WORD}){{0,7}}\s*$"
BARE_BYLINE_VALUE_RE = r"^(?:By|BY)\s+(.*?)\s*$"

RELATED_RE = (
    r"^(?i:read|read\s+more|read\s+also|also\s+read|related|related\s+(?:story|stories|article|articles"
    r"|coverage|content|reading|news)|see\s+also|more|(?:à\s+)?lire\s+aussi|voir\s+aussi|le[ea]\s+también"
    r"|lee\s+también|lesen\s+sie\s+auch|mehr\s+zum\s+thema|leggi\s+anche|leia\s+também)\s*[:|]\s*(\S.*)$"
)
EDITORIAL_NOTE_RE = (
    r"^\((?i:corrects|correcting|updates|updating|adds|refiles|recasts|changes|fixes|clarifies|repeats"
    r"|removes|deletes|inserts|amends|rewrites|withdraws|edits)\b[^\n]*\)\.?$"
)
"""A wire desk's note on a story's version: ``(Corrects paragraph 2 to show ...)``."""
TRAILER_RES: tuple[str, ...] = (
    r"^(?i:read\s+more|continue\s+reading|keep\s+reading|read\s+the\s+full\s+(?:story|article)|full\s+story)\b.{0,100}$",
    r"^(?i:click\s+here)\b.{0,200}$",
    r"^(?i:follow\s+us|follow\s+\S+(?:\s+\S+)?\s+on\s+(?:twitter|x|facebook|instagram|linkedin|threads|tiktok"
    r"|youtube|bluesky)|like\s+us\s+on|subscribe\s+to|sign\s+up\s+(?:for|to)|download\s+(?:our|the)\s+app"
    r"|join\s+our|share\s+this)\b.{0,200}$",
    r"^\((?:Reporting|Writing|Additional\s+reporting|Editing|Compiled|Written|Translated|Produced)\s+by\b[^()]*\)\.?$",
    r"^(?:Reporting|Writing|Additional\s+reporting)\s+by\s+[^.;]{1,80}"
    r"(?:;\s*(?:Editing|Additional\s+reporting|Writing)\s+by\s+[^.;]{1,80})+\.?$",
    r"^Editing\s+by\s+[^.;]{1,80}\.?$",
    EDITORIAL_NOTE_RE,
    r"^(?:©|\([cC]\)\s|Copyright\s+(?:©\s*)?\d{4}).{0,200}$",
    r"^(?i:all\s+rights\s+reserved|advertisement|sponsored\s+content|story\s+continues\s+below(?:\s+advertisement)?)\.?$",
)
TRAILER_RE = "|".join(f"(?:{trailer})" for trailer in TRAILER_RES)
SIGN_OFF_RE = r"^(?:Reuter|REUTER|Reuters|REUTERS)\.?$"
"""A wire sign-off: dropped when it is the last paragraph."""
TRAILING_SIGN_OFF_RE = r"([.!?\"”’)])\s+(?:Reuter|REUTER)\s*$"
"""A sign-off run onto the end of a paragraph."""
TRAILING_CREDIT_RE = (
    r"\s*\((?:Reporting|Writing|Additional\s+reporting|Editing|Compiled|Written)\s+by\b[^()]*\)\.?\s*$"
)
BULLET_RE = r"^(?:[•*·▪]\s|[-–—]\s+[\p{Lu}\p{N}\"“‘'(<])"
"""A list item, which starts a paragraph even in hard-wrapped text (a wrapped line may begin ``- the``)."""
DASH_ITEM_RE = r"^[-–—]\s"
"""A dash item starting lower case: a list item when indented or next to another dash item."""
STANDALONE_LINE_RE = f"(?:{RELATED_RE})|{TRAILER_RE}"
"""Lines that are a paragraph of their own even in hard-wrapped text (a bullet only starts one)."""

_AGENCIES = (
    r"Agence\s+France[-\s]Presse|AFP(?:\s+via\s+Getty\s+Images)?|Reuters|REUTERS|Associated\s+Press|AP\s+Photo"
    r"|AP|Getty\s+Images|Getty|EPA-EFE|EPA|EFE|Bloomberg|Xinhua|Anadolu\s+Agency|Anadolu|Shutterstock|Alamy"
    r"|PA\s+Media|PA\s+Wire|PA|AAP|ANSA|dpa|DPA|Kyodo|Yonhap|TASS|Sputnik|NurPhoto|SOPA\s+Images"
    r"|ZUMA\s+Press|ZUMA|Sipa|SIPA|Imago|IMAGO|Handout|HANDOUT|Supplied|File\s+photo|File"
)
CAPTION_CREDIT_RE = (
    r"(?:[.!?)\]]\s+|\s[/|]\s*|/|\(|\s[–—-]\s+|(?i:photo(?:graph)?(?:\s+by)?|image|credit|picture)\s*:?\s+)"
    rf"(?:[\p{{Lu}}][\p{{L}}.'’-]*\s+){{0,4}}(?:{_AGENCIES})\)?\.?$"
)
CAPTION_MARKER_RE = (
    r"^(?:\((?i:l-r|r-l|l\s+to\s+r|from\s+left|left\s+to\s+right|from\s+l)\)"
    r"|(?i:photo|file\s+photo|pictured|image|caption|photograph)\s*:)"
)
CAPTION_PHOTOGRAPHER_CREDIT_RE = (
    rf"(?:[.!?)\]]\s+|\()(?:{_AGENCIES}|AP\s+Photo)\s*/\s*(?:[\p{{Lu}}][\p{{L}}.'’-]*\s*){{1,4}}"
    r"(?:/\s*File(?:\s+Photo)?)?\)?\.?$"
)
"""``... REUTERS/Kevin Lamarque``, ``(AP Photo/Evan Vucci)``."""
CAPTION_SLASH_CREDIT_RE = (
    r"[.!?)]\s+(?:[\p{Lu}][\p{L}.'’-]*\s+){1,3}[\p{Lu}][\p{L}'’-]*\s*/\s*(?:[\p{Lu}][\p{L}'’&-]*\s*){1,4}$"
)
"""``... Marta Lind/City Press``: a photographer and agency credit of any agency."""
CAPTION_LABELLED_CREDIT_RE = r"\((?i:photo|picture|image|pictured|photograph)\s*:[^()]{1,150}\)\.?$"
"""``... (Photo: The Presidential Office/Handout via REUTERS)``: a credit labelled as the photo's."""
CAPTION_RE = (
    f"(?:{CAPTION_CREDIT_RE})|(?:{CAPTION_PHOTOGRAPHER_CREDIT_RE})|(?:{CAPTION_SLASH_CREDIT_RE})"
    f"|(?:{CAPTION_MARKER_RE})|(?:{CAPTION_LABELLED_CREDIT_RE})"
)
UNFINISHED_SENTENCE_RE = r"[^.!?\"”’]$"
DATELINE_OPENING_RE = (
    r"^[\p{Lu}][\p{Lu}'’.-]+(?:\s+[\p{Lu}][\p{Lu}'’.-]*)*(?:,[^\n]{1,50}?)?"
    r"\s*(?:\([^()]{1,30}\))?\s*(?:--|[-–—])\s"
)

_NAIVE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d %B %Y %H:%M:%S",
    "%d %b %Y %H:%M:%S",
    "%d %B %Y %H:%M",
    "%d %b %Y %H:%M",
    "%B %d, %Y %H:%M",
    "%b %d, %Y %H:%M",
    "%B %d, %Y %I:%M %p",
    "%d %B %Y %I:%M %p",
    "%d %b %Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M",
    "%b %d, %Y %I:%M %p",
)
_AWARE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M%z",
    "%d %b %Y %H:%M:%S %z",
)
_ZONES = {
    **dict.fromkeys(("ET", "EST", "EDT"), "America/New_York"),
    **dict.fromkeys(("CT", "CST", "CDT"), "America/Chicago"),
    **dict.fromkeys(("MT", "MST", "MDT"), "America/Denver"),
    **dict.fromkeys(("PT", "PST", "PDT"), "America/Los_Angeles"),
    **dict.fromkeys(("BST",), "Europe/London"),
    **dict.fromkeys(("CET", "CEST", "MEZ", "MESZ"), "Europe/Paris"),
    **dict.fromkeys(("JST",), "Asia/Tokyo"),
    **dict.fromkeys(("HKT",), "Asia/Hong_Kong"),
    **dict.fromkeys(("SGT",), "Asia/Singapore"),
    **dict.fromkeys(("AEST", "AEDT"), "Australia/Sydney"),
}
"""Time-zone abbreviations of header times, read as the zone's local time (summer time as it falls)."""
_ZONE_SUFFIX_RE = rf"\s+\(?({'|'.join(_ZONES)})\)?$"
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
)


def parse_text_records(frame: pl.DataFrame) -> pl.DataFrame:
    """Parses decoded plain-text article files into records.

    Args:
        frame: One row per file with ``file_uri``, ``uri``, ``record_key``, ``sha256`` and ``text`` (decoded;
            NULL when decoding failed). An optional ``quarantine_reason`` column is kept.

    Returns:
        A frame conformed to ``RECORDS_SCHEMA`` with ``raw_format = 'text'``: ``title``, ``paragraphs``
        (body paragraphs in order, the dateline still on the first), ``caption``, ``related``, and from
        labelled header lines ``byline``, ``published_at`` (``published_at_source = 'text'``),
        ``source_hint``, ``canonical_url``, ``language_hint`` and ``description``. Rows without text or body
        get a ``quarantine_reason``.
    """
    docs = frame.with_row_index("_doc")
    lines = _classified_lines(docs)
    titles = _titles(lines)
    headers = _headers(lines)
    paragraphs = _paragraphs(lines.filter(pl.col("_is_body")), titles)

    existing_reason = (
        pl.col("quarantine_reason") if "quarantine_reason" in docs.columns else pl.lit(None, pl.String)
    )
    records = (
        docs.join(titles, on="_doc", how="left")
        .join(headers, on="_doc", how="left")
        .join(paragraphs, on="_doc", how="left")
        .with_columns(
            pl.lit("text").alias("raw_format"),
            pl.col("paragraphs").fill_null(pl.lit([], pl.List(pl.String))),
            pl.col("related").fill_null(pl.lit([], pl.List(pl.String))),
            pl.when(pl.col("published_at").is_not_null()).then(pl.lit("text")).alias("published_at_source"),
        )
        .with_columns(
            pl.coalesce(
                existing_reason,
                pl.when(pl.col("text").is_null()).then(pl.lit("no text to parse")),
                pl.when(pl.col("title").is_null() & (pl.col("paragraphs").list.len() == 0)).then(
                    pl.lit("no headline and no body text")
                ),
                pl.when(pl.col("paragraphs").list.len() == 0).then(pl.lit("headline with no body")),
            ).alias("quarantine_reason")
        )
        .sort("_doc")
    )
    return conform(records, RECORDS_SCHEMA)


def _classified_lines(docs: pl.DataFrame) -> pl.DataFrame:
    """Non-blank lines with their block, and whether each is the title, a header line or body text."""
    line = pl.col("_line")
    doc = "_doc"
    lines = (
        docs.select(
            doc,
            pl.col("text")
            .str.strip_prefix("\ufeff")
            .str.replace_all(r"\r\n?|[\u0085\u2028\x0b\x0c]", "\n")
            .str.replace_all("\u2029", "\n\n")
            .str.split("\n")
            .alias("_raw_line"),
        )
        .explode("_raw_line")
        .filter(pl.col("_raw_line").is_not_null())
        .with_columns(
            pl.col("_raw_line")
            .str.strip_chars()
            .str.replace(MARKDOWN_IMAGE_RE, "")
            .str.replace(MARKDOWN_HEADING_RE, "")
            .str.replace(MARKDOWN_EMPHASIS_RE, "$1")
            .alias("_line")
        )
        .with_columns((line == "").cum_sum().alias("_block"))
        .filter(line != "")
        .with_row_index("_line_no")
        .with_columns(
            _only_where(line.str.find(":", literal=True) <= MAX_LABEL_CHARS, line)
            .str.extract_groups(LABEL_RE)
            .alias("_label")
        )
    )
    label_value = pl.col("_label").struct.field("value")
    label_kind = (
        pl.col("_label")
        .struct.field("label")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .replace_strict(LABEL_KINDS, default=None, return_dtype=pl.String)
    )
    colon_label_kind = (
        pl.when((label_kind == "url") & ~label_value.str.contains(URL_VALUE_RE))
        .then(None)
        .when((label_kind == "language") & ~label_value.str.contains(LANGUAGE_VALUE_RE))
        .then(None)
        .when(label_kind.is_in(["published", "updated"]) & ~label_value.str.contains(r"\d"))
        .then(None)
        .when(
            ~label_kind.is_in(["title", "description"])
            & (label_value.str.len_chars() > MAX_HEADER_VALUE_CHARS)
        )
        .then(None)
        .otherwise(label_kind)
    )
    fence = line.str.contains(FRONT_MATTER_FENCE_RE)
    lines = lines.with_columns(
        pl.when(fence).then(pl.lit("meta")).otherwise(colon_label_kind).alias("_label_kind"),
        label_value.alias("_label_value"),
    ).drop("_label")

    unlabeled = pl.col("_label_kind").is_null()
    unlabeled_before = unlabeled.cast(pl.UInt32).cum_sum().over(doc) - unlabeled.cast(pl.UInt32)
    bare_byline = (
        unlabeled
        & (unlabeled_before >= 1)
        & (line.str.len_chars() <= MAX_BYLINE_CHARS)
        & _only_where(line.str.starts_with("B"), line).str.contains(BARE_BYLINE_RE)
    )
    lines = lines.with_columns(
        pl.when(bare_byline).then(pl.lit("bare_byline")).otherwise(pl.col("_label_kind")).alias("_label_kind")
    )
    is_label = pl.col("_label_kind").is_not_null()
    lines = lines.with_columns((~is_label).cast(pl.UInt32).cum_sum().over(doc).alias("_unlabeled_rank"))

    rank = pl.col("_unlabeled_rank")
    leading_title_label = (pl.col("_label_kind") == "title") & (rank == 0)
    lines = lines.with_columns(
        leading_title_label.any().over(doc).alias("_has_title_label"),
        leading_title_label.cast(pl.UInt32).cum_sum().over(doc).alias("_title_label_order"),
    )
    has_title_label = pl.col("_has_title_label")
    is_title = (
        pl.when(has_title_label)
        .then(leading_title_label & (pl.col("_title_label_order") == 1))
        .otherwise(~is_label & (rank == 1) & (line.str.len_chars() <= MAX_TITLE_CHARS))
    )
    in_top = pl.when(has_title_label).then(rank == 0).otherwise(rank <= 1)
    lines = lines.with_columns(is_title.alias("_is_title"))
    is_header = is_label & in_top & ~pl.col("_is_title")
    return lines.with_columns(
        is_header.alias("_is_header"),
        (~pl.col("_is_title") & ~is_header).alias("_is_body"),
        pl.when(pl.col("_label_kind") == "bare_byline")
        .then(line.str.extract(BARE_BYLINE_VALUE_RE))
        .otherwise(pl.col("_label_value"))
        .alias("_label_value"),
    )


def _titles(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.filter(pl.col("_is_title")).select(
        "_doc",
        pl.when(pl.col("_label_kind") == "title")
        .then(pl.col("_label_value"))
        .otherwise(pl.col("_line"))
        .alias("title"),
    )


def _headers(lines: pl.DataFrame) -> pl.DataFrame:
    value = pl.col("_label_value")
    kind = pl.col("_label_kind")

    def first_of(*kinds: str) -> pl.Expr:
        return value.filter(kind.is_in(kinds)).first()

    headers = (
        lines.filter(pl.col("_is_header"))
        .group_by("_doc")
        .agg(
            first_of("byline", "bare_byline").alias("byline"),
            first_of("published").alias("_published"),
            first_of("updated").alias("_updated"),
            first_of("source").alias("source_hint"),
            first_of("url").alias("canonical_url"),
            first_of("language").str.slice(0, 2).str.to_lowercase().alias("language_hint"),
            first_of("description").alias("description"),
        )
    )
    published_at = pl.coalesce(
        parse_header_datetimes(headers["_published"]), parse_header_datetimes(headers["_updated"])
    )
    return headers.with_columns(published_at.alias("published_at")).drop("_published", "_updated")


def parse_header_datetimes(values: pl.Series) -> pl.Series:
    """Parses header dates as written (ISO 8601, RFC 2822, ``July 10, 2024 2:00 PM`` ...) to naive UTC.

    Only the values present are parsed, each step once (an expression would repeat the normalisation for
    every format and the formats for every time zone).

    Args:
        values: A String series.

    Returns:
        A ``Datetime('us')`` series of the same length: times with an offset or a zone abbreviation
        (:data:`_ZONES`) converted to UTC, times without one taken as UTC, dates alone at midnight; NULL
        when no format fits.
    """
    frame = pl.DataFrame({"value": values.cast(pl.String)}).with_row_index("row")
    stripped = pl.col("value").str.strip_chars()
    present = frame.filter(pl.col("value").is_not_null()).select(
        "row",
        zone=stripped.str.extract(_ZONE_SUFFIX_RE, 1).str.to_uppercase().replace_strict(_ZONES, default=None),
        normalised=stripped.str.replace(_ZONE_SUFFIX_RE, "")
        .str.replace(r"^(?i:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", "")
        .str.replace(r"(?i)(?:\s*(?:Z|UTC|GMT)|\s*[+-]00:?00)$", "")
        .str.replace(r"(?i)\s+at\s+", " ")
        .str.replace(r"(\d{4}),\s*(\d{1,2}[:.]\d{2})", "$1 $2")
        .str.replace(r"(\s\d{1,2})[.h](\d{2})((?:\s*[aApP]\.?[mM]\.?)?)$", "$1:$2$3")
        .str.replace(r"(\d)\s*[aA]\.?[mM]\.?$", "$1 AM")
        .str.replace(r"(\d)\s*[pP]\.?[mM]\.?$", "$1 PM"),
    )
    normalised = pl.col("normalised")
    candidates = [
        normalised.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in _NAIVE_FORMATS
    ]
    candidates += [
        normalised.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, exact=True).dt.replace_time_zone(
            None
        )
        for fmt in _AWARE_FORMATS
    ]
    candidates += [
        normalised.str.strptime(pl.Date, fmt, strict=False, exact=True).cast(pl.Datetime("us"))
        for fmt in _DATE_FORMATS
    ]
    parsed = present.select("row", "zone", parsed=pl.coalesce(candidates))
    zoned = [
        parsed.filter(pl.col("zone") == name).select(
            "row",
            parsed=pl.col("parsed")
            .dt.replace_time_zone(name, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .dt.replace_time_zone(None),
        )
        for name in parsed.filter(pl.col("zone").is_not_null())["zone"].unique().to_list()
    ]
    results = pl.concat([parsed.filter(pl.col("zone").is_null()).drop("zone"), *zoned])
    return (
        frame.join(results, on="row", how="left", maintain_order="left")
        .get_column("parsed")
        .alias(values.name)
    )


def _paragraphs(body_lines: pl.DataFrame, titles: pl.DataFrame) -> pl.DataFrame:
    """Body lines grouped into paragraphs, classified, and gathered per document."""
    doc = "_doc"
    paragraphs = _join_lines(body_lines).with_columns(pl.int_range(pl.len()).over(doc).alias("_position"))
    repeated_titles = _repeated_title_paragraphs(paragraphs, titles)

    text = pl.col("_text")
    is_last = pl.col("_position") == pl.col("_position").max().over(doc)
    related_value = text.str.extract(RELATED_RE).str.strip_chars()
    is_related = related_value.is_not_null() & (text.str.len_chars() <= MAX_RELATED_CHARS)
    paragraphs = paragraphs.with_columns(
        pl.col("_paragraph").is_in(repeated_titles.implode()).alias("_repeated_title"),
        (text.str.contains(TRAILER_RE) | (is_last & text.str.contains(SIGN_OFF_RE))).alias("_trailer"),
        pl.when(is_related).then(related_value).alias("_related"),
    )
    content = ~pl.col("_repeated_title") & ~pl.col("_trailer") & pl.col("_related").is_null()
    content_rank = content.cast(pl.UInt32).cum_sum().over(doc)
    paragraphs = paragraphs.with_columns(
        (pl.col("_trailer") | (content & (content_rank <= 2) & text.str.contains(DATE_PARAGRAPH_RE))).alias(
            "_trailer"
        )
    )
    content = ~pl.col("_repeated_title") & ~pl.col("_trailer") & pl.col("_related").is_null()
    content_rank = content.cast(pl.UInt32).cum_sum().over(doc)
    caption_candidate = content & (content_rank == 1) & (content.cast(pl.UInt32).sum().over(doc) > 1)
    candidate_text = _only_where(caption_candidate, text)
    next_opens_with_dateline = (
        text.filter(content & (content_rank == 2))
        .first()
        .over(doc)
        .str.contains(DATELINE_OPENING_RE)
        .fill_null(False)
    )
    is_caption = (
        caption_candidate
        & ~candidate_text.str.contains(DATELINE_OPENING_RE)
        & (
            candidate_text.str.contains(CAPTION_RE)
            | (next_opens_with_dateline & candidate_text.str.contains(UNFINISHED_SENTENCE_RE))
        )
    )
    may_carry_credit = (
        text.str.ends_with(")")
        | text.str.ends_with(").")
        | text.str.ends_with("REUTER")
        | text.str.ends_with("Reuter")
    )
    without_credit = (
        _only_where(may_carry_credit, text)
        .str.replace(TRAILING_SIGN_OFF_RE, "$1")
        .str.replace(TRAILING_CREDIT_RE, "")
    )
    paragraphs = paragraphs.with_columns(
        is_caption.alias("_caption"),
        pl.when(may_carry_credit).then(without_credit).otherwise(text).alias("_text"),
    )
    body = content & ~pl.col("_caption") & (pl.col("_text") != "")
    return paragraphs.group_by(doc).agg(
        pl.col("_text").filter(body).alias("paragraphs"),
        pl.col("_text").filter(pl.col("_caption")).first().alias("caption"),
        pl.col("_related").drop_nulls().alias("related"),
    )


def _join_lines(body_lines: pl.DataFrame) -> pl.DataFrame:
    """Paragraphs from body lines: ``_doc``, ``_paragraph`` (ordered id) and ``_text``.

    A blank line always ends a paragraph. Within a block of lines, hard-wrapped files join lines with a space;
    elsewhere each line is a paragraph. Only documents with multi-line blocks need the layout analysis.
    """
    doc = "_doc"
    line = pl.col("_line")
    in_block = (
        (pl.col(doc) == pl.col(doc).shift(1)) & (pl.col("_block") == pl.col("_block").shift(1))
    ).fill_null(False)
    lines = body_lines.with_columns(in_block.alias("_in_block"))
    multi_line_docs = lines.filter(pl.col("_in_block")).get_column(doc).unique().implode()
    single_lines = lines.filter(~pl.col(doc).is_in(multi_line_docs)).select(
        doc, pl.col("_line_no").alias("_paragraph"), line.alias("_text")
    )

    indented = pl.col("_raw_line").str.contains(r"^(?:\t| {2,})")
    layout = lines.filter(pl.col(doc).is_in(multi_line_docs)).with_columns(
        _is_hard_wrapped(doc).alias("_wrapped"),
        line.str.contains(STANDALONE_LINE_RE).alias("_standalone"),
        _is_list_item(doc).alias("_bullet"),
        (indented & ~indented.all().over(doc)).alias("_indented"),
    )
    starts_paragraph = (
        ~pl.col("_in_block")
        | ~pl.col("_wrapped")
        | pl.col("_standalone")
        | pl.col("_standalone").shift(1).fill_null(False)
        | pl.col("_bullet")
        | pl.col("_indented")
    )
    joined = (
        layout.with_columns(
            pl.when(starts_paragraph).then(pl.col("_line_no")).forward_fill().alias("_paragraph")
        )
        .group_by(doc, "_paragraph")
        .agg(line.str.join(" ").alias("_text"))
    )
    return pl.concat([single_lines, joined]).sort("_paragraph")


def _is_hard_wrapped(doc: str) -> pl.Expr:
    line = pl.col("_line")
    continued = (pl.col(doc) == pl.col(doc).shift(-1)) & (pl.col("_block") == pl.col("_block").shift(-1))
    continued_length = pl.when(continued).then(line.str.len_chars())
    short_line_share = (line.str.len_chars() <= WRAPPED_LINE_CHARS).mean().over(doc)
    wide_enough = (continued_length.median().over(doc) >= MIN_WRAP_WIDTH).fill_null(True)
    return (short_line_share >= WRAPPED_LINE_SHARE) & wide_enough


def _is_list_item(doc: str) -> pl.Expr:
    line = pl.col("_line")
    dash_item = line.str.contains(DASH_ITEM_RE)
    same_block = (pl.col(doc) == pl.col(doc).shift(1)) & (pl.col("_block") == pl.col("_block").shift(1))
    next_same_block = (pl.col(doc) == pl.col(doc).shift(-1)) & (
        pl.col("_block") == pl.col("_block").shift(-1)
    )
    dash_neighbour = (same_block & dash_item.shift(1)) | (next_same_block & dash_item.shift(-1))
    indented = pl.col("_raw_line").str.contains(r"^\s")
    return line.str.contains(BULLET_RE) | (dash_item & (dash_neighbour.fill_null(False) | indented))


def _repeated_title_paragraphs(paragraphs: pl.DataFrame, titles: pl.DataFrame) -> pl.Series:
    """Ids of leading paragraphs that repeat the headline (other quotes, case or punctuation allowed)."""
    title_chars = pl.col("title").str.len_chars()
    candidates = paragraphs.filter(pl.col("_position") <= MAX_REPEATED_TITLE_POSITION).join(
        titles, on="_doc", how="inner"
    )
    candidates = candidates.filter(
        (pl.col("_text").str.len_chars() <= 2 * title_chars + 10)
        & (2 * pl.col("_text").str.len_chars() + 10 >= title_chars)
    )
    return candidates.filter(_comparable(pl.col("_text")) == _comparable(pl.col("title"))).get_column(
        "_paragraph"
    )


def _only_where(condition: pl.Expr, text: pl.Expr) -> pl.Expr:
    """``text`` where ``condition`` holds, else an empty string: costly regexes then skip the other rows."""
    return pl.when(condition).then(text).otherwise(pl.lit(""))


def _comparable(text: pl.Expr) -> pl.Expr:
    """Text reduced to lower-case letters and digits, so a headline matches its copy with other quotes."""
    return text.str.normalize("NFKC").str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]+", "")
