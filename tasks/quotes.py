"""Direct quotes per article with their speakers, as vectorised Polars passes.

* Curly, straight and guillemet double quotes all count. A paragraph whose last quote is left open, followed
  by a paragraph that opens with a quote mark, holds one quote spanning both (the newsroom convention).
* Quotes of one or two words are taken as scare quotes and left out; partial quotes of three words or more
  inside a sentence are kept.
* The speaker comes from the same sentence: "..., X said", "said X", "X says", "X told <someone>",
  "X added/warned/noted/urged ...", "according to X", "X said: ...". A quote ending in a full stop
  takes no speaker from the words after it (they start a new sentence). A quote with no attribution of its
  own takes the speaker of the quote before it in the same paragraph.
* Named speakers are canonicalised per article with ``tasks.entities``: a role is dropped ("Secretary-General
  Jens Stoltenberg" -> ``Jens Stoltenberg``), a bare surname becomes the full name seen in the article, an
  organisation alias becomes its canonical name ("Nato leaders said" -> ``NATO``). "he"/"she"/"they" become
  the last person named before the quote.
* A speaker given only by a common noun ("the declaration said", "the alliance said", "a spokesman said")
  is NULL: the quote is attributed, but not to a name.
"""

from __future__ import annotations

import polars as pl

from tasks.entities import (
    CHUNK_PATTERN,
    ENTITY_SCHEMA,
    ROLE_WORDS_LOWER,
    SPEECH_VERBS,
    analyse_entities,
    entities_of,
    entity_aliases,
    in_partitions,
    in_partitions_many,
    name_core,
    noise_words,
    organisation_aliases,
)
from tasks.entities_other_languages import speakers_in_other_languages

QUOTE_SCHEMA: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "ordinal": pl.Int32(),
    "quote": pl.String(),
    "speaker": pl.String(),
}

MIN_QUOTE_WORDS = 3
"""Shorter quoted fragments are scare quotes ("deep concern"), not quotations."""

_QUOTE_MARKS = r"[“”„‟«»\"]"
_OPENING = r"[“„‟«]"
_CLOSING = r"[”»]"
_CAPITALISED_WORD = r"[A-Z\u00c0-\u00de][A-Za-z\u00c0-\u024f-]*[a-z\u00df-\u024f]"
_ADVERB = (
    r"(?:(?:has|had|have|also|later|earlier|then|again|once|further|previously|recently|separately)\s+)?"
)
_VERB = rf"(?:{SPEECH_VERBS}|according to)"
_PRONOUN = r"(?i:he|she|they)"
_AFTER_SPEAKER_FIRST = rf"^[\s,]*((?:[^\s;:!?\"]+\s+){{0,7}}?[^\s;:!?\"]+)\s+{_ADVERB}{_VERB}\b"
_DESCRIBED_AS = (
    r"(?:resident|residents|worker|student|farmer|voter|shopper|activist|protester|campaigner|survivor"
    rf"|witness|fan|supporter|member|spokesman|spokeswoman|spokesperson|{ROLE_WORDS_LOWER})"
)
"""What a speaker is called between two names: "said Pontypridd resident Gaynor Jones"."""
_AFTER_VERB_FIRST = (
    rf"^[\s,]*(?:{SPEECH_VERBS}|according to)\s+((?:[a-z'’]+\s+){{0,4}}(?:{CHUNK_PATTERN}|{_PRONOUN}\b))"
)
_AFTER_VERB_DESCRIBED = (
    rf"^[\s,]*(?:{SPEECH_VERBS}|according to)\s+(?:[a-z'’]+\s+){{0,4}}{CHUNK_PATTERN}"
    rf"\s+((?:[a-z'’-]+\s+){{1,3}}{CHUNK_PATTERN})"
)
"""The words after the first name, when a lowercase description and a second name follow it; whether the
description is one (:data:`_DESCRIBED_AS`) is asked of those few words only, not of every quote's text."""
_BEFORE = rf"(?s)^(.*?)\s*\b{_ADVERB}{_VERB}\b[^.!?]{{0,60}}$"
_BEFORE_ACCORDING = r"(?s)\b[Aa]ccording\s+to\s+([^.!?\n]{1,100}?)[\s,:]*$"
"""``According to X, "..."``: the attribution before the quote."""
_MODIFYING_NAME = r"\b[A-Z][\p{L}'’-]+ (?:administration|government|campaign|era|presidency|camp|family)\b"
"""A name used as a modifier ("the Trump administration"), which names no one a pronoun can mean."""
_SENTENCE_START = r"(?s)^.*(?:[a-z0-9)\]]{2}\.|[!?])[’']?\s+"


def _prepare(articles: pl.DataFrame) -> pl.DataFrame:
    columns = {"article_id": pl.String, "body": pl.String}
    return articles.select(
        [
            (pl.col(name) if name in articles.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in columns.items()
        ]
    ).with_row_index("art")


def _english_marks(body: pl.Expr) -> pl.Expr:
    """German quote marks turned into the marks :data:`_OPENING` and :data:`_CLOSING` read.

    German opens with „ and closes with “, which opens an English quote; a text with „ in it closes with “.
    German guillemets point inwards (»so«), French ones outwards («ainsi»): a text whose first guillemet
    is » has them swapped.
    """
    low_opened = pl.when(body.str.contains("„", literal=True)).then(
        body.str.replace_all("“", "”", literal=True)
    )
    inward = body.str.contains(r"^[^«»]*»")
    swapped = (
        body.str.replace_all("»", "\x03", literal=True)
        .str.replace_all("«", "»", literal=True)
        .str.replace_all("\x03", "«", literal=True)
    )
    return pl.when(inward).then(swapped).otherwise(low_opened.otherwise(body))


def _segments(articles: pl.DataFrame) -> pl.DataFrame:
    """Each paragraph cut at its opening quote marks, in text order.

    Row ``j == 0`` of a paragraph holds the text before its first quote (``outside``); row ``j >= 1`` holds
    one quote (``quote``), whether a closing mark ended it (``closed``) and the text after it up to the
    next opening mark (``outside``). Straight quotes open after a space or at the start of a paragraph and
    close elsewhere; an opening mark with no closing one ends at the next opening mark or at the end of the
    paragraph, where it may go on into the next paragraph.
    """
    german = articles.select(pl.col("body").str.contains("[„»]").fill_null(False)).to_series().arg_true()
    if german.len():
        bodies = articles["body"].clone()
        articles = articles.with_columns(
            bodies.scatter(german, articles[german].select(_english_marks(pl.col("body"))).to_series())
        )
    marked = (
        pl.col("para")
        .str.replace_all(_OPENING, "\x01")
        .str.replace_all(_CLOSING, "\x02")
        .str.replace_all(r'(^|[\s(\[{—–-])"', "${1}\x01")
        .str.replace_all('"', "\x02", literal=True)
    )
    pieces = (
        articles.select("art", "article_id", para=pl.col("body").fill_null("").str.split("\n\n"))
        .with_columns(p=pl.int_ranges(pl.col("para").list.len(), dtype=pl.Int32))
        .explode(["para", "p"])
        .filter(pl.col("para").str.contains(_QUOTE_MARKS) | (pl.col("p") == 0))
        .with_columns(piece=marked.str.split("\x01"))
        .with_columns(
            j=pl.int_ranges(pl.col("piece").list.len(), dtype=pl.Int32), n=pl.col("piece").list.len()
        )
        .explode(["piece", "j"])
        .drop("para")
    )
    split = pl.col("piece").str.splitn("\x02", 2)
    return (
        pieces.with_columns(
            quote=pl.when(pl.col("j") > 0).then(split.struct.field("field_0")),
            closed=split.struct.field("field_1").is_not_null(),
            outside=pl.when(pl.col("j") > 0)
            .then(split.struct.field("field_1").str.replace_all("\x02", "", literal=True).fill_null(""))
            .otherwise(pl.col("piece").str.replace_all("\x02", "", literal=True)),
            last_in_paragraph=pl.col("j") == pl.col("n") - 1,
        )
        .drop("piece", "n")
        .with_row_index("sid")
    )


def _last_person(segments: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """Per segment, the last person named outside quotes up to and including it: ``sid, last_person``.

    A person counts as named where one of their one-word aliases (surname, or a lone name) is written.
    """
    people = aliases.filter(
        (pl.col("entity_type") == "PERSON") & ~pl.col("alias").str.contains(" ", literal=True)
    ).select("article_id", word="alias", person="entity")
    words = (
        segments.select(
            "sid",
            "article_id",
            word=pl.col("outside").str.replace_all(_MODIFYING_NAME, "").str.extract_all(_CAPITALISED_WORD),
        )
        .with_columns(n=pl.int_ranges(pl.col("word").list.len()))
        .explode(["word", "n"])
        .join(people, on=["article_id", "word"])
        .sort(["sid", "n"])
        .group_by("sid")
        .agg(pl.col("person").last())
    )
    first_of_article = pl.col("art") != pl.col("art").shift(1)
    return (
        segments.select("sid", "art")
        .join(words, on="sid", how="left")
        .sort("sid")
        .with_columns(
            last_person=pl.when(first_of_article & pl.col("person").is_null())
            .then(pl.lit(""))
            .otherwise(pl.col("person"))
            .forward_fill()
        )
        .select("sid", last_person=pl.when(pl.col("last_person") != "").then(pl.col("last_person")))
    )


def _speaker_phrase(quotes: pl.DataFrame) -> pl.DataFrame:
    """The words naming each quote's speaker, and whether the sentence attributes the quote at all."""
    ends_sentence = pl.col("quote").str.strip_chars_end().str.contains(r"\.[’']?$")
    after_first = pl.col("after").str.extract(_AFTER_SPEAKER_FIRST, 1)
    second_name = pl.col("after").str.extract(_AFTER_VERB_DESCRIBED, 1)
    described = pl.when(second_name.str.contains(rf"^(?:[a-z'’-]+\s+){{0,2}}{_DESCRIBED_AS}\s")).then(
        second_name
    )
    after_verb = pl.coalesce(described, pl.col("after").str.extract(_AFTER_VERB_FIRST, 1))
    before_tail = pl.col("before").str.replace(_SENTENCE_START, "")
    before_phrase = pl.coalesce(
        before_tail.str.extract(_BEFORE, 1), before_tail.str.extract(_BEFORE_ACCORDING, 1)
    )
    return quotes.with_columns(
        phrase=pl.when(~ends_sentence & after_verb.is_not_null())
        .then(after_verb)
        .when(~ends_sentence & after_first.is_not_null())
        .then(after_first)
        .otherwise(before_phrase),
    ).with_columns(
        attributed=pl.col("phrase").is_not_null(),
        pronoun=pl.col("phrase").str.contains(rf"(?:^|\s){_PRONOUN}$"),
    )


def _family_first(aliases: pl.DataFrame) -> pl.DataFrame:
    """``article_id, first, person``: the first word of a person's name of three or more, when it is the
    first word of only one such person in the article ("Yoon" for Yoon Suk Yeol, "Prabowo")."""
    people = (
        aliases.filter(pl.col("entity_type") == "PERSON")
        .select("article_id", person="entity")
        .unique()
        .filter(pl.col("person").str.count_matches(" ") >= 2)
        .with_columns(first=pl.col("person").str.extract(r"^(\S+) ", 1))
    )
    return people.filter(pl.len().over("article_id", "first") == 1).select("article_id", "first", "person")


def _resolve(quotes: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """``speaker`` of each attributed quote: canonical name, the pronoun's person, or NULL for a noun."""
    noise = noise_words()
    names = (
        quotes.filter(pl.col("attributed") & ~pl.col("pronoun"))
        .select("sid", "article_id", name=pl.col("phrase").str.extract_all(CHUNK_PATTERN))
        .with_columns(n=pl.int_ranges(pl.col("name").list.len()))
        .explode(["name", "n"])
        .filter(pl.col("name").is_not_null())
        .with_columns(name=name_core(pl.col("name")))
        .filter((pl.col("name") != "") & ~pl.col("name").is_in(noise))
        .sort(["sid", "n"])
        .group_by("sid")
        .agg(pl.col("name").last(), pl.col("article_id").first())
    )
    canonical = (
        names.join(
            aliases.select("article_id", "alias", article_entity="entity"),
            left_on=["article_id", "name"],
            right_on=["article_id", "alias"],
            how="left",
        )
        .join(organisation_aliases().rename({"entity": "org"}), left_on="name", right_on="alias", how="left")
        .join(
            _family_first(aliases),
            left_on=["article_id", "name"],
            right_on=["article_id", "first"],
            how="left",
        )
        .select("sid", named=pl.coalesce("article_entity", "org", "person", "name"))
    )
    return quotes.join(canonical, on="sid", how="left").with_columns(
        speaker=pl.when(pl.col("pronoun")).then(pl.col("last_person")).otherwise(pl.col("named"))
    )


def extract_quotes(articles: pl.DataFrame) -> pl.DataFrame:
    """Direct quotes in each article's body, in order, with the canonical name of whoever said them.

    Args:
        articles: cleaned articles with ``article_id`` and ``body`` (paragraphs separated by a blank line).
            Other columns (``title``, ``language`` ...) are read by the entity pass that names speakers.

    Returns:
        ``article_id``, ``ordinal`` (Int32, 1-based in article order), ``quote`` (the text without its
        quote marks; a quote spanning paragraphs is joined with a space) and ``speaker`` (a canonical
        person or organisation name, NULL when the quote is unattributed or attributed to a common noun).
    """
    if articles.height == 0:
        return pl.DataFrame(schema=QUOTE_SCHEMA)
    return in_partitions(_extract_quotes, articles)


def extract_entities_and_quotes(articles: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``extract_entities(articles)`` and ``extract_quotes(articles)``, sharing the work they have in common.

    The capitalised sequences, people and aliases that name speakers are found once for both.

    Args:
        articles: cleaned articles as :func:`tasks.entities.extract_entities` and :func:`extract_quotes`
            take them.

    Returns:
        The entity rows and the quote rows, exactly as the two functions return them.
    """
    if articles.height == 0:
        return pl.DataFrame(schema=ENTITY_SCHEMA), pl.DataFrame(schema=QUOTE_SCHEMA)
    entities, quotes = in_partitions_many(_entities_and_quotes, articles)
    return entities, quotes


def _entities_and_quotes(articles: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    analysis = analyse_entities(articles)
    return entities_of(analysis, articles), _extract_quotes(
        articles, analysis.plain_aliases, analysis.people_elsewhere
    )


def _extract_quotes(
    articles: pl.DataFrame,
    aliases: pl.DataFrame | None = None,
    people_elsewhere: pl.DataFrame | None = None,
) -> pl.DataFrame:
    frame = _prepare(articles)
    frame = frame.filter(pl.col("body").str.contains(_QUOTE_MARKS))
    if frame.height == 0:
        return pl.DataFrame(schema=QUOTE_SCHEMA)
    if aliases is None:
        with_quotes = articles.join(frame.select("article_id"), on="article_id", how="semi")
        aliases = entity_aliases(with_quotes, known_organisations=False)
    segments = _segments(frame)
    quotes = (
        segments.with_columns(before=pl.col("outside").shift(1), after=pl.col("outside"))
        .filter(pl.col("j") > 0)
        .join(_last_person(segments, aliases).with_columns(pl.col("sid") + 1), on="sid", how="left")
    )
    quotes = speakers_in_other_languages(
        _resolve(_speaker_phrase(quotes), aliases), articles, people_elsewhere
    )
    open_end = ~pl.col("closed") & pl.col("last_in_paragraph")
    continues = (
        (pl.col("j") == 1)
        & (pl.col("before").str.strip_chars() == "")
        & open_end.shift(1).fill_null(False)
        & (pl.col("p") == pl.col("p").shift(1) + 1)
        & (pl.col("art") == pl.col("art").shift(1))
    )
    inherited = (
        quotes.sort("sid")
        .with_columns(said=pl.when(pl.col("attributed")).then(pl.col("speaker").fill_null("")))
        .with_columns(said=pl.col("said").forward_fill().over(["art", "p"]), group=(~continues).cum_sum())
    )
    grouped = (
        inherited.group_by("group", maintain_order=True)
        .agg(
            pl.col("art").first(),
            pl.col("article_id").first(),
            quote=pl.col("quote").str.strip_chars().str.join(" "),
            speaker=pl.col("said").drop_nulls().first(),
        )
        .with_columns(
            quote=pl.col("quote").str.replace_all(r"\s+", " ").str.strip_chars(" "),
            speaker=pl.when(pl.col("speaker") != "").then(pl.col("speaker")),
        )
        .filter(pl.col("quote").str.count_matches(r"\S+") >= MIN_QUOTE_WORDS)
        .sort("art", "group")
    )
    return grouped.select(
        "article_id",
        ordinal=pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("art"),
        quote="quote",
        speaker="speaker",
    )
