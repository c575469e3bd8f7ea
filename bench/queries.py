"""Analyst query timings over a warehouse, through the same read-only path as ``newsflow query``.

Run as ``.venv/bin/python -m bench.queries --data-dir DIR [--maintain]``: prints each query's first
(cold) time and the median of five further runs, then the plan of a date-filtered scan showing how many
files DuckLake pruned. With ``--maintain`` it runs the maintenance flow and times everything again.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from newsflow.settings import Settings, load_settings
from warehouse.catalog import LAKE, reader

QUERIES: tuple[tuple[str, str], ...] = (
    ("articles per day", "SELECT day, source, articles FROM daily_articles ORDER BY day DESC LIMIT 14"),
    (
        "articles in one week (date filter)",
        "SELECT count(*) FROM articles WHERE published_at >= {week_start} AND published_at < {week_end}",
    ),
    ("top people per week", "SELECT * FROM top_people_weekly WHERE rank <= 5 ORDER BY week DESC LIMIT 50"),
    (
        "top organisations, last 7 days",
        "SELECT entity, sum(mentions) AS mentions FROM entity_mentions_daily WHERE entity_type = 'ORG' "
        "AND day >= {last_day} - 7 GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    ),
    (
        "countries mentioned, last 7 days",
        "SELECT country_code, sum(articles) FROM country_mentions_daily WHERE day >= {last_day} - 7 "
        "GROUP BY 1 ORDER BY 2 DESC",
    ),
    ("quotes by speaker", "SELECT * FROM quotes_by_speaker ORDER BY quotes DESC LIMIT 20"),
    ("tone per day", "SELECT day, avg(tone) FROM tone_daily GROUP BY day ORDER BY day"),
    (
        "stories with rewrites",
        "SELECT story_id, count(*) AS copies FROM articles GROUP BY story_id HAVING count(*) > 1 "
        "ORDER BY copies DESC LIMIT 20",
    ),
    (
        "full-text search (BM25)",
        "SELECT a.title, s.score FROM (SELECT article_id, "
        "fts_main_article_search.match_bm25(article_id, 'government economy growth') AS score "
        "FROM article_search) AS s JOIN articles AS a USING (article_id) WHERE s.score IS NOT NULL "
        "ORDER BY s.score DESC LIMIT 10",
    ),
)


@dataclass
class Timing:
    label: str
    cold_seconds: float
    warm_seconds: float
    rows: int


def _bounds(settings: Settings) -> dict[str, str]:
    """A week in the middle of the articles' dates, and the last day, as SQL date literals."""
    with reader(settings) as con:
        row = con.execute("SELECT min(published_at), max(published_at) FROM articles").fetchone()
    if not row or row[0] is None:
        return {
            "week_start": "DATE '2000-01-01'",
            "week_end": "DATE '2000-01-08'",
            "last_day": "current_date",
        }
    first, last = row
    middle = first + (last - first) / 2
    return {
        "week_start": f"DATE '{middle:%Y-%m-%d}'",
        "week_end": f"DATE '{middle:%Y-%m-%d}' + 7",
        "last_day": f"DATE '{last:%Y-%m-%d}'",
    }


def time_queries(settings: Settings, repeats: int = 5) -> list[Timing]:
    """Each query's first run on a new connection, then the median of ``repeats`` more."""
    bounds = _bounds(settings)
    timings: list[Timing] = []
    for label, template in QUERIES:
        sql = template.format(**bounds)
        with reader(settings) as con:
            started = time.perf_counter()
            rows = len(con.execute(sql).fetchall())
            cold = time.perf_counter() - started
            warm: list[float] = []
            for _ in range(repeats):
                started = time.perf_counter()
                con.execute(sql).fetchall()
                warm.append(time.perf_counter() - started)
        timings.append(Timing(label, cold, statistics.median(warm), rows))
    return timings


def pruning_plan(settings: Settings) -> str:
    """How many of the table's data files a one-week date filter reads, from EXPLAIN ANALYZE."""
    bounds = _bounds(settings)
    sql = QUERIES[1][1].format(**bounds)
    with reader(settings) as con:
        listed = con.execute(f"SELECT count(*) FROM ducklake_list_files('{LAKE}', 'articles')").fetchone()
        plan = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN ANALYZE {sql}").fetchall())
    read = re.search(r"Total Files Read: (\d+)", plan)
    files = int(listed[0]) if listed else 0
    return (
        f"  EXPLAIN ANALYZE {sql}\n"
        f"  -> Total Files Read: {read.group(1) if read else '?'} of the {files} data files of articles"
    )


def print_timings(title: str, timings: list[Timing]) -> None:
    print(title)
    print(f"  {'query':<38} {'rows':>6} {'first s':>9} {'median s':>9}")
    for timing in timings:
        print(
            f"  {timing.label:<38} {timing.rows:>6} {timing.cold_seconds:>9.3f} {timing.warm_seconds:>9.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--maintain", action="store_true")
    args = parser.parse_args()
    settings = load_settings(data_dir=args.data_dir)
    print_timings("Queries before maintenance", time_queries(settings))
    print(pruning_plan(settings))
    if args.maintain:
        from flows.maintenance import maintenance

        maintenance(data_dir=str(args.data_dir), retention_days=0)
        print_timings("Queries after maintenance", time_queries(settings))
        print(pruning_plan(settings))


if __name__ == "__main__":
    main()
