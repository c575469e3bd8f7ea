"""Keywords per article: TF-IDF against a background word-frequency list.

A term's score is ``(1 + ln tf) * idf``: ``tf`` counts it in the title and body, and ``idf = -log10 f``
where ``f`` is the word's frequency in general use, from the ``wordfreq`` package (Speer 2022; code Apache
2.0, data CC BY-SA 4.0: Wikipedia, subtitles, news, books, web text, Reddit, Twitter): its ``best`` list
for each of 42 languages (words down to 1e-8 in 21 of them, 1e-6 in the rest). A word missing from that
list is rare: ``idf = OOV_IDF``. For a language wordfreq lacks, ``idf`` is
``log10((N + 1) / df)`` over the batch's ``N`` articles in that language.

Terms are lower-case words (letters only; a possessive ``'s`` is dropped) and two-word phrases that occur
at least ``MIN_BIGRAM_COUNT`` times without punctuation between the words (``time warner``,
``interest rates``); a phrase's idf is ``BIGRAM_IDF_FACTOR`` times the sum of its words'. Stop words never
make terms: per language the list of the ``stopwords`` package (ISC licence; Snowball-style lists for
English, German, French, Spanish and 38 more) and :data:`EXTRA_STOPWORDS`. Words more frequent than
``COMMON_FREQUENCY`` in general use (``time``, ``people``, ``year``) are not keywords on their own, but
may start or end a phrase with a rarer word. A word that occurs only inside one of the article's phrases
is dropped in favour of the phrase (when the phrase is among the article's ``2 * top_n`` best terms).
"""

from __future__ import annotations

import math
from typing import Final

import polars as pl
import stopwords as stopword_lists
import wordfreq

from newsflow.caching import cache_once
from tasks.text_tokens import TextTokens, text_tokens

DEFAULT_TOP_N: Final = 10
UNKNOWN_LANGUAGE: Final = "und"
OOV_IDF: Final = 7.5
COMMON_FREQUENCY: Final = 1e-3
MIN_BIGRAM_COUNT: Final = 2
BIGRAM_IDF_FACTOR: Final = 0.6
MIN_WORD_CHARS: Final = 3
EXTRA_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        {"also", "mr", "mrs", "ms", "dr", "said", "says", "told", "would", "could", "per", "cent"}
    ),
    "de": frozenset({"sagte", "sagt", "prozent", "herr", "frau"}),
    "fr": frozenset({"selon", "cent", "dit", "déclaré", "m", "mme"}),
    "es": frozenset({"dijo", "según", "ciento", "señor"}),
}
"""Reporting verbs, titles and ``per cent``: frequent in news copy, never what a story is about."""

KEYWORDS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "article_id": pl.String(),
    "keyword": pl.String(),
    "score": pl.Float64(),
}

_SEED: Final = 0x6B657977
_WORDFREQ_ALIASES: Final = {"no": "nb"}
_TOKEN_PATTERN: Final = r"\b[^\W\d_]+(?:['’][^\W\d_]+)*\b|[.,;:!?()\[\]\"“”«»]|\n"


def _hashed(words: pl.Series, language: str) -> pl.Series:
    """Hash of ``(language, word)``, as computed for tokens in :func:`extract_keywords`."""
    salt = pl.Series([language], dtype=pl.String).hash(_SEED)
    return words.hash(_SEED) ^ pl.repeat(salt[0], len(words), dtype=pl.UInt64, eager=True)


def _language_salts(languages: pl.Expr) -> pl.Expr:
    return languages.hash(_SEED)


@cache_once(maxsize=64)
def _stopword_keys(language: str) -> pl.Series:
    try:
        listed = set(stopword_lists.get_stopwords(language))
    except stopword_lists.LanguageNotAvailable:
        listed = set()
    words = sorted(listed | EXTRA_STOPWORDS.get(language, frozenset()))
    return _hashed(pl.Series(words, dtype=pl.String), language)


@cache_once(maxsize=64)
def _background(language: str) -> pl.DataFrame | None:
    """``(key, idf, common)`` for the language's words, or None when wordfreq has no list for it.

    The list is read from wordfreq's file here rather than through ``wordfreq.get_frequency_dict``,
    which keeps every language's words as Python objects for the life of the process (about 65 MB for
    German); the frame kept here takes a fifth of that.
    """
    path = wordfreq.available_languages(wordlist="best").get(_WORDFREQ_ALIASES.get(language, language))
    if path is None:
        return None
    buckets = pl.DataFrame({"word": wordfreq.read_cBpack(path)}, schema={"word": pl.List(pl.String())})
    words = (
        buckets.with_row_index("centibels")
        .explode("word")
        .drop_nulls("word")
        .unique("word", keep="last", maintain_order=True)
    )
    return (
        words.select(key=_hashed(words["word"], language), idf=pl.col("centibels").cast(pl.Float64) / 100)
        .unique("key", keep="first", maintain_order=True)
        .with_columns(common=pl.col("idf") <= -math.log10(COMMON_FREQUENCY))
    )


def _tokens(articles: pl.DataFrame, tokens: TextTokens) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The keyword tokens of each article, in order, and the lexicon of the words they are.

    Keyword tokens are what :data:`_TOKEN_PATTERN` finds in the lower-cased title and body once a
    possessive ``'s`` is dropped; each shared token is cut that way once.

    Returns:
        One row per keyword token: article ``idx`` and ``entry``, its row in the lexicon; and the lexicon:
        one row per word and language of the batch, in ``entry`` order, with ``key`` (a hash of word and
        language), ``tok`` (the word), ``language`` and ``chars`` (its length).
    """
    pieces = (
        tokens.vocabulary.select(
            id=pl.int_range(pl.len(), dtype=pl.UInt32),
            tok=pl.col("token").str.replace_all(r"['’]s\b", "").str.extract_all(_TOKEN_PATTERN),
        )
        .explode("tok")
        .drop_nulls("tok")
    )
    words = pieces.select(pl.col("tok").unique(maintain_order=True)).with_row_index("word")
    language = pl.col("language").fill_null(UNKNOWN_LANGUAGE)
    languages = articles.select(language.unique().sort()).to_series()
    lexicon = pl.concat(
        [
            words.select(
                "tok",
                key=pl.col("tok").hash(_SEED).xor(_language_salts(pl.lit(name))),
                language=pl.lit(name, pl.String),
                chars=pl.col("tok").str.len_chars(),
            )
            for name in languages
        ]
    )
    article_offsets = articles.select(
        language.replace_strict(languages, pl.int_range(languages.len(), dtype=pl.UInt32)) * words.height
    ).to_series()
    occurrences = (
        tokens.occurrences.filter("text")
        .join(
            pieces.join(words, on="tok", maintain_order="left").select("id", "word"),
            on="id",
            how="inner",
            maintain_order="left_right",
        )
        .select("idx", entry=pl.lit(article_offsets).gather(pl.col("idx")) + pl.col("word"))
    )
    return occurrences, lexicon


def _word_lists(languages: list[str]) -> tuple[pl.Series, pl.Series, pl.DataFrame, list[str]]:
    """Stop word keys, common word keys and ``(key, idf)`` for the languages; and those without a list."""
    stop, common, idf, unsupported = [], [], [], []
    for language in languages:
        stop.append(_stopword_keys(language))
        background = _background(language)
        if background is None:
            unsupported.append(language)
            continue
        common.append(background.filter("common")["key"])
        idf.append(background.select("key", "idf"))
    return (
        pl.concat(stop),
        pl.concat(common) if common else pl.Series(dtype=pl.UInt64),
        pl.concat(idf) if idf else pl.DataFrame(schema={"key": pl.UInt64(), "idf": pl.Float64()}),
        unsupported,
    )


def _idf(
    vocabulary: pl.DataFrame,
    background: pl.DataFrame,
    unsupported: list[str],
    unigrams: pl.DataFrame,
    articles: pl.DataFrame,
) -> pl.DataFrame:
    """``(key, idf)`` for the batch's words: background idf, or ``log10((N + 1) / df)`` without a list."""
    idf = vocabulary.select("key", "language").join(background, on="key", how="left")
    if not unsupported:
        return idf.select("key", pl.col("idf").fill_null(OOV_IDF))
    documents = (
        articles.select(language=pl.col("language").fill_null(UNKNOWN_LANGUAGE))
        .group_by("language")
        .agg(n_docs=pl.len())
    )
    frequency = unigrams.group_by("key").agg(df=pl.len())
    return (
        idf.join(frequency, on="key", how="left")
        .join(documents, on="language", how="left")
        .select(
            "key",
            idf=pl.when(pl.col("language").is_in(unsupported))
            .then(((pl.col("n_docs") + 1) / pl.col("df")).log10())
            .otherwise(pl.col("idf").fill_null(OOV_IDF)),
        )
    )


def extract_keywords(
    articles: pl.DataFrame, top_n: int = DEFAULT_TOP_N, tokens: TextTokens | None = None
) -> pl.DataFrame:
    """Top keywords of each article by TF-IDF against general word frequencies.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body`` and ``language``.
        top_n: keywords kept per article (fewer when the article has fewer terms).
        tokens: ``text_tokens(articles)`` when another pass has it already.

    Returns:
        ``(article_id, keyword, score)`` with the columns of :data:`KEYWORDS_SCHEMA`, ordered by article (in
        input order) then by descending score; keywords are lower case.
    """
    if articles.height == 0 or top_n <= 0:
        return pl.DataFrame(schema=KEYWORDS_SCHEMA)
    occurrences, lexicon = _tokens(articles, tokens or text_tokens(articles))
    languages = lexicon["language"].unique().sort().to_list()
    stop, common, background, unsupported = _word_lists(languages)
    flags = lexicon.select(
        word=~pl.col("key").is_in(stop.implode()) & (pl.col("chars") > 1),
        long=pl.col("chars") >= MIN_WORD_CHARS,
        common=pl.col("key").is_in(common.implode()),
    ).select("word", single=pl.col("word") & pl.col("long") & ~pl.col("common"))
    marked = occurrences.select(
        "idx",
        "entry",
        word=pl.lit(flags["word"]).gather(pl.col("entry")),
        single=pl.lit(flags["single"]).gather(pl.col("entry")),
    )
    phrase = (
        pl.col("word")
        & pl.col("word").shift(-1)
        & (pl.col("idx").shift(-1) == pl.col("idx"))
        & (pl.col("single") | pl.col("single").shift(-1))
    )
    packed = pl.col("idx").cast(pl.UInt64) * (1 << 32) + pl.col("entry")
    counted_unigrams, counted_bigrams = pl.collect_all(
        [
            marked.lazy().filter("single").group_by(pair=packed).agg(n=pl.len()),
            marked.lazy()
            .select(pair=packed, second=pl.col("entry").shift(-1), phrase=phrase)
            .filter("phrase")
            .group_by("pair", "second")
            .agg(n=pl.len())
            .filter(pl.col("n") >= MIN_BIGRAM_COUNT),
        ]
    )
    keys = lexicon["key"]
    unpacked = [
        (pl.col("pair") // (1 << 32)).cast(pl.UInt32).alias("idx"),
        pl.lit(keys).gather((pl.col("pair") % (1 << 32)).cast(pl.UInt32)).alias("key"),
    ]
    unigrams = counted_unigrams.select(*unpacked, "n")
    bigrams = counted_bigrams.select(*unpacked, pl.lit(keys).gather(pl.col("second")).alias("second"), "n")
    vocabulary = lexicon.select("key", "tok", "language")
    idf = _idf(vocabulary, background, unsupported, unigrams, articles)
    single_scores = unigrams.join(idf, on="key", how="left").select(
        "idx", "key", second=pl.lit(None, dtype=pl.UInt64), n="n", idf="idf"
    )
    phrase_scores = (
        bigrams.join(idf, on="key", how="left")
        .join(idf.rename({"key": "second", "idf": "idf_second"}), on="second", how="left")
        .select(
            "idx",
            "key",
            "second",
            "n",
            idf=BIGRAM_IDF_FACTOR
            * (pl.col("idf").fill_null(OOV_IDF) + pl.col("idf_second").fill_null(OOV_IDF)),
        )
    )
    scored = pl.concat([single_scores, phrase_scores]).with_columns(
        score=((1 + pl.col("n").cast(pl.Float64).log()) * pl.col("idf").fill_null(0.0))
    )
    shortlist = 2 * top_n
    cut = scored.group_by("idx").agg(cut=pl.col("score").top_k(shortlist).min())
    candidates = scored.join(cut, on="idx").filter(pl.col("score") >= pl.col("cut"), pl.col("score") > 0)
    phrases = candidates.filter(pl.col("second").is_not_null())
    subsumed = (
        pl.concat([phrases.select("idx", "key", "n"), phrases.select("idx", key="second", n="n")])
        .group_by("idx", "key")
        .agg(n_phrase=pl.col("n").sum())
    )
    top = (
        candidates.lazy()
        .join(subsumed.lazy(), on=["idx", "key"], how="left")
        .filter(
            pl.col("second").is_not_null() | pl.col("n_phrase").is_null() | (pl.col("n") > pl.col("n_phrase"))
        )
        .sort(["idx", "score", "key", "second"], descending=[False, True, False, False], nulls_last=False)
        .group_by("idx", maintain_order=True)
        .head(top_n)
    )
    terms = vocabulary.lazy().select("key", "tok")
    ids = articles.lazy().select("article_id").with_row_index("idx")
    return (
        top.join(terms.rename({"tok": "first_word"}), on="key", how="left", maintain_order="left")
        .join(
            terms.rename({"key": "second", "tok": "second_word"}),
            on="second",
            how="left",
            maintain_order="left",
        )
        .join(ids, on="idx", how="left", maintain_order="left")
        .select(
            "article_id",
            keyword=pl.concat_str(["first_word", "second_word"], separator=" ", ignore_nulls=True),
            score="score",
        )
        .collect()
    )
