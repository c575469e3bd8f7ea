"""Scores ``extract_entities`` and ``extract_quotes`` against Reuters-21578 categories and the seed article.

Run as ``.venv/bin/python -m bench.eval_entities [--corpus PATH] [--runs N]``. The corpus defaults to
``NEWSFLOW_CORPUS``, else ``../shared/corpus`` beside the repository.

Scoring (micro-averaged over stories; exact duplicates of an earlier story left out):

* places: the set of ``country_code`` of predicted LOCATION rows against the gold place codes mapped to
  ISO 3166-1 alpha-2 by ``tasks/data/entities/reuters_places.csv``; precision and recall over stories
  with at least one gold place;
* people: recall by surname (gold ``james-baker`` is found when a PERSON's last token is ``baker``);
* organisations: recall by name or acronym through ``tasks/data/entities/reuters_orgs.csv``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from bench.shared_corpus import (
    bbc_story_paths,
    default_corpus,
    read_story,
    reuters_gold,
    reuters_story_path,
    story_paragraphs,
)
from tasks.data_files import ENTITY_DATA
from tasks.entities import extract_entities
from tasks.quotes import extract_entities_and_quotes, extract_quotes

SEED_FILE = "seed/000_9135530c8063760a.txt"

_DATELINE_RE = (
    r"(?s)^(?P<place>[A-Z][^\n]{0,60}?),\s+(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)"
    r"[a-z]*\.?\s+\d{1,2}\s+-\s+(?P<rest>.*)$"
)


def reuters_articles(corpus: Path) -> tuple[pl.DataFrame, list[dict[str, object]]]:
    """The reuters_dev stories as cleaned articles, and their gold records (exact duplicates left out)."""
    gold = reuters_gold(corpus)
    rows = []
    for record in gold:
        title, paragraphs = story_paragraphs(reuters_story_path(corpus, record))
        rows.append({"article_id": str(record["path"]), "title": title, "paragraphs": paragraphs})
    frame = pl.DataFrame(
        rows, schema={"article_id": pl.String, "title": pl.String, "paragraphs": pl.List(pl.String)}
    )
    frame = with_datelines(frame)
    return frame.select(
        "article_id", "title", "dateline", body=pl.col("paragraphs").list.join("\n\n"), language=pl.lit("en")
    ), gold


def with_datelines(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (with ``paragraphs``) with ``dateline`` taken off the first paragraph."""
    try:
        from tasks.clean import extract_datelines
    except ImportError:
        groups = pl.col("paragraphs").list.first().str.extract_groups(_DATELINE_RE)
        return frame.with_columns(
            dateline=groups.struct.field("place"),
            paragraphs=pl.when(groups.struct.field("place").is_not_null())
            .then(pl.concat_list(groups.struct.field("rest"), pl.col("paragraphs").list.slice(1)))
            .otherwise(pl.col("paragraphs")),
        )
    return extract_datelines(frame)


def _read_mapping(name: str) -> dict[str, str]:
    with (ENTITY_DATA / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return {row[0]: row[1] for row in rows[1:]}


def surname_keys(code: str) -> set[str]:
    """The last-token forms a gold person code accepts: ``james-baker`` -> baker, ``de-clercq`` -> clercq."""
    parts = code.split("-")
    return {parts[-1], code, "-".join(parts[-2:])}


@dataclass
class Scores:
    """Place precision and recall, people and organisation recall, with their counts."""

    place_hits: int = 0
    place_predicted: int = 0
    place_gold: int = 0
    people_hits: int = 0
    people_gold: int = 0
    org_hits: int = 0
    org_gold: int = 0
    misses: dict[str, list[str]] = field(default_factory=dict)

    @property
    def place_precision(self) -> float:
        return self.place_hits / self.place_predicted if self.place_predicted else 0.0

    @property
    def place_recall(self) -> float:
        return self.place_hits / self.place_gold if self.place_gold else 0.0

    @property
    def people_recall(self) -> float:
        return self.people_hits / self.people_gold if self.people_gold else 0.0

    @property
    def org_recall(self) -> float:
        return self.org_hits / self.org_gold if self.org_gold else 0.0


def score(entities: pl.DataFrame, gold: list[dict[str, object]]) -> Scores:
    """Country-level place P/R and people and organisation recall of ``entities`` against the gold."""
    places = _read_mapping("reuters_places.csv")
    org_names = {
        code: {alias.lower() for alias in aliases.split("|")}
        for code, aliases in _read_mapping("reuters_orgs.csv").items()
    }
    by_article: dict[str, dict[str, set[str]]] = {}
    for row in entities.iter_rows(named=True):
        slot = by_article.setdefault(row["article_id"], {"LOCATION": set(), "PERSON": set(), "ORG": set()})
        if row["entity_type"] == "LOCATION":
            slot["LOCATION"].add(row["country_code"])
        elif row["entity_type"] == "PERSON":
            slot["PERSON"].add(row["entity"].split()[-1].lower())
        else:
            slot["ORG"].add(row["entity"].lower())
    result = Scores(misses={"places": [], "people": [], "orgs": []})
    for record in gold:
        found = by_article.get(str(record["path"]), {"LOCATION": set(), "PERSON": set(), "ORG": set()})
        gold_places = {places[code] for code in record["places"] if code in places}  # type: ignore[attr-defined]
        if gold_places:
            hits = gold_places & found["LOCATION"]
            result.place_hits += len(hits)
            result.place_gold += len(gold_places)
            result.place_predicted += len(found["LOCATION"])
            if gold_places != found["LOCATION"]:
                result.misses["places"].append(
                    f"{record['path']}: gold {sorted(gold_places)} got {sorted(found['LOCATION'])}"
                )
        for person in record["people"]:  # type: ignore[attr-defined]
            result.people_gold += 1
            if surname_keys(person) & found["PERSON"]:
                result.people_hits += 1
            else:
                result.misses["people"].append(f"{record['path']}: {person} got {sorted(found['PERSON'])}")
        for org in record["orgs"]:  # type: ignore[attr-defined]
            result.org_gold += 1
            if org_names.get(org, {org}) & found["ORG"]:
                result.org_hits += 1
            else:
                result.misses["orgs"].append(f"{record['path']}: {org} got {sorted(found['ORG'])}")
    return result


def seed_article(corpus: Path) -> pl.DataFrame:
    """The seed article as the cleaning step leaves it: title, dateline, the story's own paragraphs."""
    text = (corpus / SEED_FILE).read_text(encoding="utf-8")
    paragraphs = [part.strip() for part in text.split("\n\n") if part.strip()]
    title = paragraphs[0]
    body = [part for part in paragraphs[3:] if not part.startswith("READ:") and part != "Read more..."]
    dateline, _, first = body[0].partition(" — ")
    body[0] = first
    return pl.DataFrame(
        {
            "article_id": ["seed"],
            "title": [title],
            "dateline": [dateline],
            "body": ["\n\n".join(body)],
            "language": ["en"],
        }
    )


def seed_checks(corpus: Path) -> dict[str, bool]:
    """The seed article's expectations: quote speaker, places and organisation."""
    article = seed_article(corpus)
    entities = extract_entities(article)
    quotes = extract_quotes(article)
    places = set(entities.filter(pl.col("entity_type") == "LOCATION")["entity"].to_list())
    codes = set(entities.filter(pl.col("entity_type") == "LOCATION")["country_code"].to_list())
    orgs = set(entities.filter(pl.col("entity_type") == "ORG")["entity"].to_list())
    return {
        "quote by Jens Stoltenberg": "Jens Stoltenberg" in quotes["speaker"].to_list(),
        "place China": "China" in places,
        "place Russia": "Russia" in places,
        "place Ukraine": "Ukraine" in places,
        "place Washington/US": "Washington" in places and "US" in codes,
        "place Beijing": "Beijing" in places,
        "place Moscow": "Moscow" in places,
        "org NATO": "NATO" in orgs,
    }


def bbc_articles(corpus: Path) -> pl.DataFrame:
    """BBC News articles (about 400 words each) as cleaned articles without datelines."""
    rows = []
    for path in bbc_story_paths(corpus):
        title, body = read_story(path)
        rows.append(
            {
                "article_id": f"{path.parent.name}/{path.name}",
                "title": title,
                "dateline": None,
                "body": body,
                "language": "en",
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "article_id": pl.String,
            "title": pl.String,
            "dateline": pl.String,
            "body": pl.String,
            "language": pl.String,
        },
    )


def throughput(articles: pl.DataFrame, runs: int) -> dict[str, tuple[float, float]]:
    """Per function: median articles per wall-clock second, and per CPU second, over ``runs`` runs.

    ``extract_quotes`` alone finds the speakers' aliases itself; in the pipeline it shares them with the
    entity pass (``extract_entities_and_quotes``).
    """
    extract_entities(articles.head(50))
    extract_quotes(articles.head(50))
    rates: dict[str, tuple[float, float]] = {}
    functions = (
        ("extract_entities", extract_entities),
        ("extract_quotes", extract_quotes),
        ("extract_entities_and_quotes (as enrichment runs them)", extract_entities_and_quotes),
    )
    for name, function in functions:
        wall, cpu = [], []
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            function(articles)
            wall.append(articles.height / (time.perf_counter() - start))
            cpu.append(articles.height / (time.process_time() - start_cpu))
        rates[name] = (statistics.median(wall), statistics.median(cpu))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--runs", type=int, default=5, help="timed runs per function (median reported)")
    parser.add_argument("--copies", type=int, default=10, help="BBC copies in the throughput frame")
    parser.add_argument("--misses", type=int, default=0, help="print this many misses of each kind")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "reuters_dev" / "gold.jsonl").is_file():
        parser.error(f"no reuters_dev/gold.jsonl under {corpus}: pass --corpus or set NEWSFLOW_CORPUS")

    articles, gold = reuters_articles(corpus)
    entities = extract_entities(articles)
    result = score(entities, gold)
    print(f"reuters_dev stories scored: {len(gold)}")
    print(
        f"places  precision {result.place_precision:.3f}  recall {result.place_recall:.3f}  "
        f"({result.place_hits} hits, {result.place_predicted} predicted, {result.place_gold} gold)"
    )
    print(f"people  recall {result.people_recall:.3f}  ({result.people_hits}/{result.people_gold})")
    print(f"orgs    recall {result.org_recall:.3f}  ({result.org_hits}/{result.org_gold})")
    for kind, misses in result.misses.items():
        for line in misses[: args.misses]:
            print(f"  miss {kind}: {line}")

    if (corpus / SEED_FILE).is_file():
        for name, passed in seed_checks(corpus).items():
            print(f"seed    {'PASS' if passed else 'FAIL'}  {name}")

    if (corpus / "bbc_news_fulltext").is_dir():
        bbc = bbc_articles(corpus)
        frame = pl.concat(
            [bbc.with_columns(pl.col("article_id") + f"#{copy}") for copy in range(args.copies)]
        )
        words = frame["body"].str.count_matches(r"\S+").mean()
        rates = throughput(frame, args.runs)
        for name, (wall, cpu) in rates.items():
            print(
                f"speed   {name}: {wall:,.0f} articles/s ({cpu:,.0f} per CPU second; BBC, {frame.height} "
                f"articles of {words:.0f} words on average, median of {args.runs} runs)"
            )
    for name, (wall, cpu) in throughput(articles, args.runs).items():
        print(
            f"speed   {name}: {wall:,.0f} articles/s ({cpu:,.0f} per CPU second; reuters_dev, "
            f"{articles.height} articles)"
        )


if __name__ == "__main__":
    main()
