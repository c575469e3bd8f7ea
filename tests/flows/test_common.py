from __future__ import annotations

import logging
from pathlib import Path

import pytest

import flows.common
from flows.common import start_loading_models
from newsflow.settings import load_settings

logger = logging.getLogger("test-load-models")


def test_models_load_ahead_for_the_configured_languages_and_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[list[str], str]] = []
    monkeypatch.setattr(flows.common, "load_models", lambda *arguments: asked.append(arguments))
    settings = load_settings(data_dir=tmp_path, languages=["en", "fr"], enrichment="basic")

    loading = start_loading_models(settings, logger)

    assert loading is not None
    loading.result(timeout=30)
    assert asked == [(["en", "fr"], "basic")]


def test_nothing_is_loaded_here_when_batches_run_on_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows.common, "load_models", lambda *_: pytest.fail("loaded in the flow's process"))

    assert start_loading_models(load_settings(data_dir=tmp_path, task_runner="dask"), logger) is None


def test_a_failed_load_is_logged_and_left_to_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*_: object) -> None:
        raise ValueError("language detector does not know: xx")

    monkeypatch.setattr(flows.common, "load_models", fail)
    caplog.set_level(logging.DEBUG, logger=logger.name)

    loading = start_loading_models(load_settings(data_dir=tmp_path), logger)

    assert loading is not None
    assert loading.result(timeout=30) is None
    assert "does not know: xx" in caplog.text
