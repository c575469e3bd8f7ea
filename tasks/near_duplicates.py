"""Near-duplicate grouping: MinHash sketches of word shingles, candidate search, story ids.

Articles that are rewrites, corrections, updates or syndicated copies of one story share a ``story_id``.

Each article's text is cut into word 5-grams (shingles); every shingle is hashed once and the article keeps
the ``SKETCH_SIZE`` smallest distinct hashes: a bottom-k MinHash sketch (Broder 1997; Cohen & Kaplan 2007).
Two sketches give unbiased estimates of both the Jaccard similarity of the shingle sets and the
containment of the shorter text in the longer one: below the smaller of the two sketches' largest
values, both sketches hold *every* shingle hash of their article, so the hashes there are a uniform
sample of the union. Containment catches what Jaccard misses: a copy with its last paragraphs cut.

Candidate pairs are articles whose anchors (the ``NUM_ANCHORS`` smallest sketch values) share at least
``MIN_SHARED`` hashes, found by an equi-join on the hash (the warehouse runs the same join in SQL on
``article_anchors``, :data:`ANCHOR_ROWS_SCHEMA`); a hash among the anchors of more than ``MAX_BUCKET``
articles (of the batch, or of the stored articles given) is boilerplate and finds no pairs. Candidates are
kept when the similarity estimates pass the thresholds of :func:`assign_story_ids`; groups are the
connected components.

Hashes are computed here rather than taken from ``polars.Expr.hash`` (which may change between Polars
releases), so sketches stored by one run stay comparable with the next: every distinct token is hashed
with xxh3-64, and a shingle's hash mixes its five token hashes with fixed 64-bit arithmetic (splitmix64).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl
import xxhash

from tasks.text_tokens import TextTokens, text_tokens

SHINGLE_WORDS: Final = 5
SKETCH_SIZE: Final = 128
SIGNATURE_VERSION: Final = "bottom128-w5-xxh3-v1"
"""Changes whenever sketches computed by this module stop being comparable with stored ones."""

NUM_ANCHORS: Final = 64
MIN_SHARED: Final = 2
CERTAIN_SHARED: Final = 52
MAX_BUCKET: Final = 200
MIN_SHINGLES: Final = 8
JACCARD_MIN: Final = 0.5
SHORT_SHINGLES: Final = 60
SHORT_JACCARD_MIN: Final = 0.75
CONTAINMENT_MIN: Final = 0.8
CONTAINMENT_MIN_SHINGLES: Final = 40

TOKEN_PATTERN: Final = r"\w+(?:[.,'’/-]\w+)*"

SIGNATURES_SCHEMA: Final[dict[str, pl.DataType]] = {
    "article_id": pl.String(),
    "published_at": pl.Datetime("us"),
    "n_shingles": pl.Int32(),
    "sketch": pl.List(pl.UInt64()),
}
"""Output of :func:`compute_signatures`: one row per article.

``n_shingles`` counts the distinct word 5-grams; ``sketch`` holds the ``min(SKETCH_SIZE, n_shingles)``
smallest distinct shingle hashes, ascending (empty for a text of fewer than five words).
"""

SKETCH_ROWS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "article_id": pl.String(),
    "story_id": pl.String(),
    "published_at": pl.Datetime("us"),
    "n_shingles": pl.Int32(),
    "sketch": pl.List(pl.UInt64()),
    "anchored": pl.Boolean(),
}
"""The warehouse table ``article_sketches``: each stored article's sketch and story, one row per article.

``anchored`` says whether the article's anchors are in ``article_anchors``: they are not for a repeat
(see :func:`repeated_articles`). Sketches written under another :data:`SIGNATURE_VERSION` are not
comparable and must be recomputed.
"""

ANCHOR_ROWS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "article_id": pl.String(),
    "story_id": pl.String(),
    "n_shingles": pl.Int32(),
    "shingle_hash": pl.UInt64(),
}
"""The warehouse table ``article_anchors``: one row per stored article and anchor (the ``NUM_ANCHORS``
smallest values of its sketch), which a batch's anchors are joined with to find its candidate pairs."""

STORY_IDS_SCHEMA: Final[dict[str, pl.DataType]] = {"article_id": pl.String(), "story_id": pl.String()}

_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
_SHINGLE_MULTIPLIERS: Final = (
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD,
)
_NO_LIMIT: Final = (1 << 64) - 1
_SKETCH_SLACK: Final = 16


def _u64(value: int) -> pl.Expr:
    return pl.lit(value, dtype=pl.UInt64)


def _mix(expr: pl.Expr) -> pl.Expr:
    """splitmix64's finaliser in wrapping UInt64 arithmetic (``// 2**k`` is a logical right shift)."""
    z = expr.cast(pl.UInt64)
    z = z.xor(z // _u64(1 << 30)) * _u64(_M1)
    z = z.xor(z // _u64(1 << 27)) * _u64(_M2)
    return z.xor(z // _u64(1 << 31))


def _stable_token_hashes(vocabulary: pl.DataFrame) -> pl.DataFrame:
    """``th`` per token: xxh3-64 of its UTF-8 bytes less a leading apostrophe; NULL for punctuation."""
    words = vocabulary.select(pl.col("token").str.strip_prefix("'").str.strip_prefix("’")).to_series()
    distinct = words.filter(words.str.contains(r"^\w")).unique(maintain_order=True)
    stable = pl.Series(
        [xxhash.xxh3_64_intdigest(word) for word in distinct.cast(pl.Binary).to_list()], dtype=pl.UInt64
    )
    return pl.DataFrame({"th": words.replace_strict(distinct, stable, default=None, return_dtype=pl.UInt64)})


def compute_signatures(articles: pl.DataFrame, tokens: TextTokens | None = None) -> pl.DataFrame:
    """Bottom-k MinHash sketches of articles' word 5-grams.

    The text is the dateline date (when that column is present), the title and the body, lower-cased and
    split into words (:data:`TOKEN_PATTERN`); numbers stay whole words, so formulaic stories with
    different figures stay apart.

    Args:
        articles: cleaned articles with ``article_id``, ``title``, ``body``; ``published_at`` and
            ``dateline_date`` are used when present.
        tokens: ``text_tokens(articles)`` when another pass has it already.

    Returns:
        One row per article, in order, with the columns of :data:`SIGNATURES_SCHEMA`.
    """
    if articles.height == 0:
        return pl.DataFrame(schema=SIGNATURES_SCHEMA)
    tokens = tokens or text_tokens(articles)
    token_hashes = tokens.per_occurrence(_stable_token_hashes(tokens.vocabulary), text_only=False).drop_nulls(
        "th"
    )
    window = pl.sum_horizontal(
        [pl.col("th").shift(-j) * _u64(m) for j, m in enumerate(_SHINGLE_MULTIPLIERS[:SHINGLE_WORDS])]
    )
    sketches = (
        token_hashes.lazy()
        .select("idx", h=_mix(window), whole=pl.col("idx").shift(-(SHINGLE_WORDS - 1)) == pl.col("idx"))
        .filter("whole")
        .group_by("idx")
        .agg(
            n_shingles=pl.col("h").n_unique().cast(pl.Int32),
            sketch=pl.col("h").bottom_k(SKETCH_SIZE + _SKETCH_SLACK).unique().sort().head(SKETCH_SIZE),
        )
    )
    published = (
        pl.col("published_at").cast(pl.Datetime("us"))
        if "published_at" in articles.columns
        else pl.lit(None, dtype=pl.Datetime("us"))
    )
    return (
        articles.lazy()
        .select("article_id", published.alias("published_at"))
        .with_row_index("idx")
        .join(sketches, on="idx", how="left", maintain_order="left")
        .select(
            "article_id",
            "published_at",
            pl.col("n_shingles").fill_null(0),
            pl.col("sketch").fill_null(pl.lit([], dtype=pl.List(pl.UInt64()))),
        )
        .collect()
    )


def sketch_rows(
    signatures: pl.DataFrame, story_ids: pl.DataFrame, repeats: pl.Series | None = None
) -> pl.DataFrame:
    """The rows to store in ``article_sketches`` for signed articles and their story ids.

    Args:
        signatures: output of :func:`compute_signatures`.
        story_ids: ``(article_id, story_id)``, as returned by :func:`assign_story_ids`.
        repeats: ``article_id`` of the articles whose anchors are not stored (:func:`repeated_articles`).

    Returns:
        Columns of :data:`SKETCH_ROWS_SCHEMA`, one row per article of both.
    """
    repeated = pl.col("article_id").is_in(repeats.implode()) if repeats is not None else pl.lit(False)
    return (
        signatures.join(story_ids.select("article_id", "story_id"), on="article_id", how="inner")
        .with_columns(anchored=~repeated)
        .select(list(SKETCH_ROWS_SCHEMA))
        .cast(SKETCH_ROWS_SCHEMA)  # type: ignore[arg-type]
    )


def anchor_rows(sketches: pl.DataFrame) -> pl.DataFrame:
    """The rows to store in ``article_anchors`` for rows of :data:`SKETCH_ROWS_SCHEMA`."""
    return (
        sketches.filter(pl.col("anchored").fill_null(True))
        .select("article_id", "story_id", "n_shingles", shingle_hash=pl.col("sketch").list.head(NUM_ANCHORS))
        .explode("shingle_hash")
        .drop_nulls("shingle_hash")
        .cast(ANCHOR_ROWS_SCHEMA)  # type: ignore[arg-type]
    )


def _anchors(rows: pl.DataFrame) -> pl.DataFrame:
    """``(node, shingle_hash)`` of anchor slots, less hashes in the anchors of over ``MAX_BUCKET`` nodes."""
    return (
        rows.filter(pl.col("slot") < NUM_ANCHORS)
        .select("node", "shingle_hash")
        .filter(pl.len().over("shingle_hash") <= MAX_BUCKET)
    )


def _shared_anchors(anchors: pl.DataFrame, other: pl.DataFrame | None = None) -> pl.DataFrame:
    """Node pairs ``(u, v)`` whose anchors share ``shared >= MIN_SHARED`` values.

    Without ``other``: pairs of ``anchors``' nodes with ``u < v``; with it, ``u`` from ``anchors`` and ``v``
    from ``other``.
    """
    if other is None:
        joined = anchors.join(anchors, on="shingle_hash", suffix="_v").filter(
            pl.col("node") < pl.col("node_v")
        )
    else:
        joined = anchors.join(other, on="shingle_hash", suffix="_v")
    return (
        joined.group_by(u="node", v="node_v")
        .agg(shared=pl.len())
        .filter(pl.col("shared") >= MIN_SHARED)
        .select("u", "v", pl.col("shared").cast(pl.UInt32))
    )


def _count_up_to(values: pl.Expr, limit: pl.Expr) -> pl.Expr:
    return values.list.concat(limit).list.agg((pl.element() <= pl.element().last()).sum()) - 1


def _similarities(pairs: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """Estimated Jaccard and containment of node ``pairs``, from the nodes' sketches.

    Below ``limit`` (the lower of the two sketches' limits) each sketch holds every shingle hash of its
    text, so the hashes there are a uniform sample of the union of both texts' shingles.
    """
    info = nodes.select("node", "n_shingles", "day", "limit", "sketch")
    both = pl.col("sketch_u").list.set_intersection("sketch_v")
    shorter_sample = (
        pl.when(pl.col("n_shingles_u") <= pl.col("n_shingles_v")).then("sample_u").otherwise("sample_v")
    )
    return (
        pairs.join(info.rename(lambda c: f"{c}_u"), left_on="u", right_on="node_u")
        .join(info.rename(lambda c: f"{c}_v"), left_on="v", right_on="node_v")
        .with_columns(limit=pl.min_horizontal("limit_u", "limit_v"))
        .with_columns(
            both=_count_up_to(both, pl.col("limit")),
            sample_u=_count_up_to(pl.col("sketch_u"), pl.col("limit")),
            sample_v=_count_up_to(pl.col("sketch_v"), pl.col("limit")),
        )
        .drop("sketch_u", "sketch_v")
        .with_columns(
            shorter=pl.min_horizontal("n_shingles_u", "n_shingles_v"),
            jaccard=pl.col("both") / (pl.col("sample_u") + pl.col("sample_v") - pl.col("both")),
            containment=pl.col("both") / shorter_sample,
        )
    )


def _accepted(similar: pl.DataFrame) -> pl.DataFrame:
    jaccard_min = pl.when(pl.col("shorter") < SHORT_SHINGLES).then(SHORT_JACCARD_MIN).otherwise(JACCARD_MIN)
    days_apart = (pl.col("day_u") - pl.col("day_v")).abs() >= pl.duration(days=1)
    recurring = (pl.col("shorter") < SHORT_SHINGLES) & days_apart.fill_null(False)
    similar_enough = (pl.col("jaccard") >= jaccard_min) | (
        (pl.col("shorter") >= CONTAINMENT_MIN_SHINGLES) & (pl.col("containment") >= CONTAINMENT_MIN)
    )
    return similar.filter((pl.col("shorter") >= MIN_SHINGLES) & similar_enough & ~recurring)


def _components(edges: pl.DataFrame, rank: pl.DataFrame) -> pl.DataFrame:
    """Connected components of ``edges (u, v)``: each node's ``label`` is the lowest ``rank`` it reaches."""
    both_ways = pl.concat([edges.select("u", "v"), edges.select(u="v", v="u")])
    labels = rank.select("node", label="rank")
    while True:
        reached = (
            both_ways.join(labels.rename({"node": "u"}), on="u")
            .group_by("v")
            .agg(reached=pl.col("label").min())
            .rename({"v": "node"})
        )
        updated = labels.join(reached, on="node", how="left").select(
            "node", label=pl.min_horizontal("label", "reached")
        )
        if updated.join(labels, on=["node", "label"], how="anti").height == 0:
            return labels
        labels = updated


def _limit(sketch_length: pl.Expr, sketch_max: pl.Expr) -> pl.Expr:
    """Below this hash a sketch holds all its text's shingle hashes: everywhere when nothing was dropped."""
    return pl.when(pl.col("n_shingles") > sketch_length).then(sketch_max).otherwise(_u64(_NO_LIMIT))


STORED_PAIRS_SCHEMA: Final[dict[str, pl.DataType]] = {
    "u": pl.UInt32(),
    "article_id": pl.String(),
    "shared": pl.UInt32(),
}
"""Anchor matches of a batch with stored articles: the new article's row ``u`` in the batch's signatures, a
stored ``article_id``, and how many anchor hashes they share (at least ``MIN_SHARED``; a hash among the
anchors of more than ``MAX_BUCKET`` stored articles, or of the batch, does not count)."""


@dataclass(frozen=True)
class StoredCandidates:
    """The stored articles a batch may be grouped with, and how their anchors match the batch's.

    Attributes:
        pairs: rows of :data:`STORED_PAIRS_SCHEMA`.
        articles: rows of :data:`SKETCH_ROWS_SCHEMA`: every stored article of ``pairs``, and every
            stored article with the ``article_id`` of a new one (an article ingested again). Publication
            times and sketches are needed (and may otherwise be NULL) where a similarity must be estimated
            from the sketches: for the articles :func:`needs_sketch` names.
        groups: ``(node, label)`` of :func:`batch_groups`: the batch's own groups, which both the choice of
            sketches to read and the assignment need.
    """

    pairs: pl.DataFrame
    articles: pl.DataFrame
    groups: pl.DataFrame


_NODE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "node": pl.UInt32(),
    "article_id": pl.String(),
    "story_id": pl.String(),
    "published_at": pl.Datetime("us"),
    "n_shingles": pl.Int32(),
    "sketch": pl.List(pl.UInt64()),
}


def _sketch_rows(nodes: pl.DataFrame) -> pl.DataFrame:
    """Sketches as rows ``(node, slot, shingle_hash)``."""
    return (
        nodes.select(
            "node",
            slot=pl.int_ranges(pl.col("sketch").list.len(), dtype=pl.Int16),
            shingle_hash="sketch",
        )
        .explode("slot", "shingle_hash")
        .drop_nulls("shingle_hash")
    )


def _new_nodes(signatures: pl.DataFrame) -> pl.DataFrame:
    """The batch's articles as nodes ``0 .. n-1`` with ``day`` and ``limit``."""
    return (
        signatures.select("article_id", "published_at", "n_shingles", "sketch")
        .with_row_index("node")
        .with_columns(story_id=pl.lit(None, dtype=pl.String))
        .select(list(_NODE_SCHEMA))
        .with_columns(
            day=pl.col("published_at").dt.truncate("1d"),
            limit=_limit(pl.col("sketch").list.len(), pl.col("sketch").list.max()),
        )
    )


def _stored_nodes(articles: pl.DataFrame, first_node: int) -> pl.DataFrame:
    """Stored candidate articles as nodes from ``first_node`` on, in ``article_id`` order."""
    return (
        articles.sort("article_id")
        .with_row_index("node", offset=first_node)
        .with_columns(
            day=pl.col("published_at").dt.truncate("1d"),
            limit=_limit(pl.col("sketch").list.len(), pl.col("sketch").list.max()),
        )
        .select(*_NODE_SCHEMA, "day", "limit")
    )


def new_anchors(new: pl.DataFrame) -> pl.DataFrame:
    """The anchors of a batch that can match stored articles: ``(u, shingle_hash)``.

    Args:
        new: output of :func:`compute_signatures`; ``u`` is an article's row in it.

    Returns:
        The ``NUM_ANCHORS`` smallest values of each sketch, less hashes among the anchors of more than
        ``MAX_BUCKET`` of the batch's articles.
    """
    return _anchors(_sketch_rows(new.select("sketch").with_row_index("node"))).rename({"node": "u"})


def stored_candidates(new: pl.DataFrame, existing: pl.DataFrame | None) -> StoredCandidates:
    """:class:`StoredCandidates` of a batch among given stored articles.

    Args:
        new: output of :func:`compute_signatures` for the batch.
        existing: stored articles (:data:`SKETCH_ROWS_SCHEMA`); None when there are none.

    Returns:
        The anchor matches of ``new`` with ``existing``, and every article of ``existing``.
    """
    if existing is None or existing.height == 0:
        return StoredCandidates(
            pl.DataFrame(schema=STORED_PAIRS_SCHEMA),
            pl.DataFrame(schema=SKETCH_ROWS_SCHEMA),
            batch_groups(new),
        )
    articles = existing.select(list(SKETCH_ROWS_SCHEMA)).cast(SKETCH_ROWS_SCHEMA)  # type: ignore[arg-type]
    numbered = articles.select("article_id").with_row_index("node")
    indexed = articles.with_row_index("node").filter(pl.col("anchored").fill_null(True))
    stored_rows = _sketch_rows(indexed.select("node", "sketch"))
    pairs = (
        _shared_anchors(new_anchors(new).rename({"u": "node"}), _anchors(stored_rows))
        .join(numbered.rename({"node": "v"}), on="v")
        .select("u", "article_id", "shared")
        .cast(STORED_PAIRS_SCHEMA)  # type: ignore[arg-type]
    )
    return StoredCandidates(pairs, articles, batch_groups(new))


def repeated_articles(new: pl.DataFrame, candidates: StoredCandidates) -> pl.Series:
    """The new articles that are certain matches of a stored article other than themselves: repeats.

    A repeat shares at least ``CERTAIN_SHARED`` of its ``NUM_ANCHORS`` anchors with an anchored stored
    article, so what its anchors would find, that article's find too: a repeat's sketch is stored, its
    anchors are not. A story copied hundreds of times (syndicated wire copy) then costs the candidate
    search a few anchored versions, not every copy; a later article that only one repeat's anchors would
    have found (a rewrite of a rewrite) can start a story of its own.

    Args:
        new: output of :func:`compute_signatures` for the batch.
        candidates: the batch's :class:`StoredCandidates`.

    Returns:
        The repeats' ``article_id``.
    """
    fresh = _new_nodes(new)
    across = _sized(
        candidates.pairs.join(candidates.articles.select("article_id", "n_shingles"), on="article_id"), fresh
    )
    return (
        across.filter("certain")
        .join(fresh.select(u="node", new_article="article_id"), on="u")
        .filter(pl.col("article_id") != pl.col("new_article"))
        .get_column("new_article")
        .unique()
    )


def stories_and_sketches(
    new: pl.DataFrame, candidates: StoredCandidates, *, anchor_repeats: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A batch's story ids and the ``article_sketches`` rows to store for it.

    Args:
        new: output of :func:`compute_signatures` for the batch.
        candidates: the batch's :class:`StoredCandidates`.
        anchor_repeats: anchor repeats too (:func:`repeated_articles`); by default they get no anchors.

    Returns:
        ``(article_id, story_id)`` as :func:`assign_story_ids_among` gives them, and rows of
        :data:`SKETCH_ROWS_SCHEMA`.
    """
    story_ids = assign_story_ids_among(new, candidates)
    repeats = None if anchor_repeats else repeated_articles(new, candidates)
    return story_ids, sketch_rows(new, story_ids, repeats)


def needs_sketch(
    new: pl.DataFrame, pairs: pl.DataFrame, articles: pl.DataFrame, groups: pl.DataFrame
) -> pl.DataFrame:
    """The stored articles whose similarity to a new one must be estimated from their sketches.

    A pair needs sketches unless its anchors settle it (:func:`_certain`) or the story the new article's
    group joins cannot depend on it: the group has a certain match (see :func:`assign_story_ids`).

    Args:
        new: output of :func:`compute_signatures` for the batch.
        pairs: rows of :data:`STORED_PAIRS_SCHEMA`.
        articles: ``article_id`` and ``n_shingles`` of the stored articles of ``pairs``.
        groups: :func:`batch_groups` of ``new``.

    Returns:
        ``article_id`` of every stored article in a pair the anchors alone do not settle.
    """
    across = _sized(pairs.join(articles.select("article_id", "n_shingles"), on="article_id"), _new_nodes(new))
    return _open_pairs(across, groups, _certain_labels(across, groups)).select("article_id").unique()


def _certain() -> pl.Expr:
    long_enough = (pl.col("n_shingles_u") >= NUM_ANCHORS) & (pl.col("n_shingles_v") >= NUM_ANCHORS)
    return long_enough & (pl.col("shared") >= CERTAIN_SHARED)


def _sized(pairs: pl.DataFrame, fresh: pl.DataFrame) -> pl.DataFrame:
    """``pairs`` of a new node ``u`` and a stored article (with its ``n_shingles``), flagged ``certain``."""
    return (
        pairs.rename({"n_shingles": "n_shingles_v"})
        .join(fresh.select(u="node", n_shingles_u="n_shingles"), on="u")
        .with_columns(certain=_certain())
    )


def _edges(pairs: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """The near-duplicate edges ``(u, v, certain, jaccard)`` among node ``pairs (u, v, shared)``."""
    sizes = nodes.select("node", "n_shingles")
    return _edges_of_sized(
        pairs.join(sizes.rename({"node": "u", "n_shingles": "n_shingles_u"}), on="u")
        .join(sizes.rename({"node": "v", "n_shingles": "n_shingles_v"}), on="v")
        .with_columns(certain=_certain()),
        nodes,
    )


def _edges_of_sized(pairs: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """:func:`_edges` of pairs that already carry ``n_shingles_u``, ``n_shingles_v`` and ``certain``."""
    certain = pairs.filter("certain").select(
        "u", "v", "certain", jaccard=pl.col("shared") / (2 * NUM_ANCHORS - pl.col("shared"))
    )
    checked = _accepted(_similarities(pairs.filter(~pl.col("certain")).select("u", "v"), nodes))
    return pl.concat([certain, checked.select("u", "v", certain=pl.lit(False), jaccard="jaccard")])


def _rank(fresh: pl.DataFrame) -> pl.DataFrame:
    order = fresh.sort("published_at", "article_id", nulls_last=True)
    return order.select("node", "article_id", rank=pl.int_range(pl.len(), dtype=pl.UInt32))


def batch_groups(new: pl.DataFrame) -> pl.DataFrame:
    """``(node, label)``: the batch's groups of near duplicates among themselves, before stored stories.

    Args:
        new: output of :func:`compute_signatures` for the batch; ``node`` is an article's row in it.
    """
    fresh = _new_nodes(new)
    within = _edges(_shared_anchors(_anchors(_sketch_rows(fresh))), fresh)
    return _components(within, _rank(fresh).select("node", "rank"))


def _certain_labels(across: pl.DataFrame, labels: pl.DataFrame) -> pl.DataFrame:
    """Groups with a certain match among the stored articles."""
    return across.filter("certain").join(labels.rename({"node": "u"}), on="u").select("label").unique()


def _settled_labels(across: pl.DataFrame, labels: pl.DataFrame, restored: pl.DataFrame) -> pl.DataFrame:
    """Groups whose stored story no uncertain pair can change.

    A group with an article ingested again takes that article's stored story, and a group with a certain
    match takes the story of its strongest certain match, whatever else it matches.
    """
    again = restored.join(labels.rename({"node": "u"}), on="u").select("label")
    return pl.concat([_certain_labels(across, labels), again]).unique()


def _open_pairs(across: pl.DataFrame, labels: pl.DataFrame, settled: pl.DataFrame) -> pl.DataFrame:
    """The uncertain pairs of ``across`` whose group's stored story is not settled."""
    return (
        across.filter(~pl.col("certain"))
        .join(labels.rename({"node": "u"}), on="u")
        .join(settled, on="label", how="anti")
        .drop("label")
    )


def assign_story_ids(new: pl.DataFrame, existing: pl.DataFrame | None = None) -> pl.DataFrame:
    """Group new articles into stories, joining stories already in the warehouse where they match.

    Two articles are near duplicates when the smallest ``NUM_ANCHORS`` values of their sketches share at
    least ``MIN_SHARED``, the shorter text has at least ``MIN_SHINGLES`` shingles, and either the estimated
    Jaccard similarity of their word 5-grams is at least ``JACCARD_MIN`` (``SHORT_JACCARD_MIN`` when the
    shorter text has fewer than ``SHORT_SHINGLES`` shingles) or at least ``CONTAINMENT_MIN`` of the shorter
    text's 5-grams are in the longer one (when it has at least ``CONTAINMENT_MIN_SHINGLES``). Short texts
    published on different days are never near duplicates: those are recurring reports (market closes,
    shipping lists), not copies. Texts of at least ``NUM_ANCHORS`` shingles whose anchors share
    ``CERTAIN_SHARED`` values need no further check: their Jaccard estimate is at least 52/76 = 0.68.

    New articles that are near duplicates of each other form one group, transitively. A group with a near
    duplicate among the stored articles takes that article's story id; when it has several, the strongest
    match's: an article stored before under the same ``article_id`` (it keeps its story), else a certain
    match sharing the most anchors, else the highest estimated Jaccard similarity (then the lowest story
    id). Certain matches rank first because the anchors settle them: a group with one needs no sketch
    comparison with any other stored article, which keeps matching cheap when a story has been stored
    hundreds of times. A group with no stored near duplicate is a new story whose id is the ``article_id``
    of its earliest member (by ``published_at``, unknown last, then by ``article_id``); an article with no
    near duplicate at all is a story of its own: ``story_id = article_id``.

    Args:
        new: output of :func:`compute_signatures` for the articles to assign.
        existing: stored articles (:data:`SKETCH_ROWS_SCHEMA`, as in ``article_sketches``); None or empty
            when there are none.

    Returns:
        ``(article_id, story_id)``, one row per row of ``new``, in its order.
    """
    return assign_story_ids_among(new, stored_candidates(new, existing))


def assign_story_ids_among(new: pl.DataFrame, candidates: StoredCandidates) -> pl.DataFrame:
    """:func:`assign_story_ids` with the stored articles given by their anchor matches.

    Args:
        new: output of :func:`compute_signatures` for the articles to assign.
        candidates: the stored articles ``new`` may join (see :class:`StoredCandidates`); a sketch is
            needed for every stored article that :func:`needs_sketch` names.

    Returns:
        ``(article_id, story_id)``, one row per row of ``new``, in its order.
    """
    if new.height == 0:
        return pl.DataFrame(schema=STORY_IDS_SCHEMA)
    fresh = _new_nodes(new)
    stored = _stored_nodes(candidates.articles, new.height)
    nodes = pl.concat([fresh, stored])
    labels = candidates.groups
    across = _sized(
        candidates.pairs.join(
            stored.select(v="node", article_id="article_id", story_id="story_id", n_shingles="n_shingles"),
            on="article_id",
        ),
        fresh,
    )
    restored = fresh.select(u="node", article_id="article_id").join(
        stored.select(v="node", article_id="article_id"), on="article_id"
    )
    settled = _settled_labels(across, labels, restored)
    sized_pairs = ("u", "v", "shared", "n_shingles_u", "n_shingles_v", "certain")
    stored_pairs = pl.concat(
        [across.filter("certain"), _open_pairs(across, labels, settled)], how="diagonal_relaxed"
    ).select(sized_pairs)
    edges = pl.concat(
        [
            _edges_of_sized(stored_pairs, nodes),
            restored.select("u", "v", certain=pl.lit(True), jaccard=pl.lit(1.0)),
        ]
    ).unique(["u", "v"], keep="last", maintain_order=True)

    rank = _rank(fresh)
    first_member = rank.select(label="rank", first_member="article_id")
    stored_story = (
        edges.filter(pl.col("v") >= new.height)
        .join(stored.select(v="node", stored_article="article_id", stored_story="story_id"), on="v")
        .join(fresh.select(u="node", new_article="article_id"), on="u")
        .join(labels.rename({"node": "u"}), on="u")
        .with_columns(same_article=pl.col("stored_article") == pl.col("new_article"))
        .sort(["same_article", "certain", "jaccard", "stored_story"], descending=[True, True, True, False])
        .group_by("label", maintain_order=True)
        .agg(pl.col("stored_story").first())
    )
    return (
        fresh.select("node", "article_id")
        .join(labels, on="node", how="left", maintain_order="left")
        .join(first_member, on="label", how="left", maintain_order="left")
        .join(stored_story, on="label", how="left", maintain_order="left")
        .select("article_id", story_id=pl.coalesce("stored_story", "first_member"))
    )
