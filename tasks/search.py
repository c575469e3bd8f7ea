"""Refresh the full-text search index after a run, or finish the one fed during it (the index itself lives
in ``warehouse.search``)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from newsflow.settings import Settings
from newsflow.timing import timed
from warehouse.search import SearchIndexFeed, SearchIndexRefresh
from warehouse.search import refresh_search_index as refresh_index


@task(name="refresh_search_index", cache_policy=NO_CACHE)
def refresh_search_index(settings: Settings, *, full: bool = False) -> SearchIndexRefresh:
    """Update the index for what changed in the lake, or rebuild it from scratch when ``full`` is set."""
    with timed("search_index"):
        return refresh_index(settings, full=full)


@task(name="finish_search_index", cache_policy=NO_CACHE)
def finish_search_index(feed: SearchIndexFeed) -> SearchIndexRefresh:
    """Index what the run's batches did not bring and swap the index fed during the run in."""
    with timed("search_index"):
        return feed.finish()
