"""Deployments served against a real Prefect server on 127.0.0.1: schedules fire, triggers run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SERVE_STOP_SECONDS = 120
"""How long `newsflow serve` may take to stop: it lets the runs in flight (every 5 s here) finish."""
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 150
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                pytest.fail("prefect server did not start")
            time.sleep(0.5)
    try:
        yield {**env, "PREFECT_API_URL": url}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _newsflow(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "newsflow"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _wait_for(condition: Any, timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(1)
    pytest.fail(message)


def _articles(env: dict[str, str], data: Path) -> int:
    result = _newsflow(
        env, "query", "SELECT count(*) AS n FROM articles", "--data-dir", str(data), "--format", "json"
    )
    return json.loads(result.stdout)[0]["n"] if result.returncode == 0 else 0


def test_serve_schedules_trigger_and_one_writer(prefect_server: dict[str, str], tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(SAMPLES / "wire" / "storm-warning.txt", landing)
    data = tmp_path / "data"
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[sources.wire]\nlocation = "{landing}"\ninterval = "5s"\n')
    env = {**prefect_server, "NEWSFLOW_SOURCES_FILE": str(sources), "NEWSFLOW_DATA_DIR": str(data)}

    listed = _newsflow(env, "sources", "--json")
    assert json.loads(listed.stdout)[0]["name"] == "wire"

    serve = subprocess.Popen(
        [str(BIN / "newsflow"), "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: _articles(env, data) >= 1, 150, "the scheduled ingest never ran")
        shutil.copy(SAMPLES / "wire" / "grain-exports.txt", landing)
        _wait_for(
            lambda: _articles(env, data) >= 2, 90, "a file dropped in the landing folder was not ingested"
        )

        manual = _newsflow(
            env,
            "trigger",
            "manual",
            "--param",
            f'sources=["{SAMPLES / "features"}"]',
            "--param",
            "source_name=features",
            "--wait",
        )
        assert manual.returncode == 0, manual.stdout + manual.stderr
        assert "Completed" in manual.stdout

        first = subprocess.Popen(
            [str(BIN / "newsflow"), "trigger", "manual", "--param", f'sources=["{SAMPLES}"]', "--wait"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        second = subprocess.Popen(
            [str(BIN / "newsflow"), "trigger", "manual", "--param", f'sources=["{SAMPLES}"]', "--wait"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0

        runs = _api(prefect_server["PREFECT_API_URL"], "/flow_runs/filter", {"limit": 200})
        finished = [run for run in runs if run["state_type"] == "COMPLETED"]
        scheduled = [run for run in finished if run.get("deployment_id") and run["name"]]
        assert len(scheduled) >= 5
        assert all(run["state_type"] in ("COMPLETED", "SCHEDULED", "PENDING", "RUNNING") for run in runs)
        artifacts = _api(prefect_server["PREFECT_API_URL"], "/artifacts/filter", {"limit": 200})
        assert {"ingest-counts", "ingest-summary"} <= {artifact["key"] for artifact in artifacts}
        duplicates = _newsflow(
            env,
            "query",
            "SELECT count(*) - count(DISTINCT article_id) AS d FROM articles",
            "--format",
            "json",
        )
        assert json.loads(duplicates.stdout) == [{"d": 0}]
        assert _articles(env, data) == 10
    finally:
        stopping = time.monotonic()
        serve.terminate()
        try:
            serve.wait(timeout=SERVE_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(timeout=30)
            pytest.fail(f"newsflow serve did not stop within {SERVE_STOP_SECONDS} s of SIGTERM")
        print(f"newsflow serve stopped {time.monotonic() - stopping:.1f} s after SIGTERM")
