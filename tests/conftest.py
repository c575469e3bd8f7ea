from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.shared_corpus import default_corpus

os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="newsflow-prefect-home-")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus: skipped when absent on a user's machine, a failure under CI."""
    root = default_corpus()
    if not root.is_dir():
        message = f"shared corpus not found at {root} (set NEWSFLOW_CORPUS)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data dir and no NEWSFLOW_* from the caller's environment."""
    for name in list(os.environ):
        if name.startswith("NEWSFLOW_") and name != "NEWSFLOW_CORPUS":
            monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(data_dir))
    yield data_dir
