"""Hostile inputs: one ingest over broken, huge, mislabelled and malicious files; plus properties."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.clean import clean_records
from tasks.decode import decode_bytes
from tasks.parse_text import parse_text_records
from tests.reliability.crash_harness import ingest_env, shared_prefect_server
from tests.reliability.hostile import run_hostile_corpus

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("non_utf8_name", [False, True])
def test_hostile_corpus_ingests_with_one_status_per_input(tmp_path: Path, non_utf8_name: bool) -> None:
    run = run_hostile_corpus(tmp_path, ingest_env(shared_prefect_server()), non_utf8_name=non_utf8_name)
    print("\n".join(run.lines()))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.summary.get("state") == "completed"
    assert run.max_rss_kb < 1_500_000
    assert run.files_recorded >= run.files_expected
    assert set(run.statuses) <= {"ingested", "duplicate", "quarantined", "skipped"}
    assert [r for r in run.rows if r[1] in ("quarantined", "skipped") and not r[2]] == []
    assert run.second.get("files_new", -1) <= 1, "only the file grown during the first run may be new"


text_strategy = st.text(
    st.characters(blacklist_characters="\ufffd", blacklist_categories=("Cs",)), max_size=400
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_bytes_never_raises_and_returns_text_xor_reason(raw: bytes) -> None:
    text, _encoding, reason = decode_bytes(raw)
    assert (text is None) != (reason is None)


@settings(max_examples=200, deadline=None)
@given(text_strategy)
def test_decode_bytes_keeps_valid_utf8_without_replacement_characters(value: str) -> None:
    text, _encoding, reason = decode_bytes(value.encode("utf-8"))
    assert (text is None) != (reason is None)
    if text is not None:
        assert "\ufffd" not in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.none(), text_strategy), min_size=1, max_size=8))
def test_parse_and_clean_one_row_per_row_and_no_triple_newlines(texts: list[str | None]) -> None:
    frame = pl.DataFrame(
        {
            "file_uri": [f"file:///x/{i}.txt" for i in range(len(texts))],
            "uri": [f"file:///x/{i}.txt" for i in range(len(texts))],
            "record_key": [f"file:///x/{i}.txt" for i in range(len(texts))],
            "sha256": [str(i) for i in range(len(texts))],
            "text": texts,
        },
        schema={
            "file_uri": pl.String,
            "uri": pl.String,
            "record_key": pl.String,
            "sha256": pl.String,
            "text": pl.String,
        },
    )
    records = parse_text_records(frame)
    assert records.height == frame.height
    cleaned = clean_records(records)
    assert cleaned.height == frame.height
    for body in cleaned["body"].to_list():
        assert body is None or "\n\n\n" not in body
