"""Names and paths from users never reach SQL or the file system unescaped; secrets are never recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.ingest import ingest
from newsflow.settings import load_settings
from tests.sources_fixtures import serving_http
from warehouse.catalog import connect_reader

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize("name", ["../../x", "x'; DROP TABLE articles; --", "/etc/passwd", 'a"b\\c\nd'])
def test_hostile_source_names_are_stored_verbatim_and_files_stay_in_the_lake(
    tmp_path: Path, name: str
) -> None:
    data = tmp_path / "data"
    ingest(sources=[str(SAMPLES / "wire")], source_name=name, data_dir=str(data), field_map=None)
    con = connect_reader(load_settings(data_dir=data))
    try:
        assert con.execute("SELECT DISTINCT source FROM articles").fetchall() == [(name,)]
        files = [
            path
            for (path,) in con.execute(
                "SELECT data_file FROM ducklake_list_files('lake', 'articles')"
            ).fetchall()
        ]
    finally:
        con.close()
    lake = (data / "lake").resolve()
    assert files and all(Path(path).resolve().is_relative_to(lake) for path in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_secrets_in_urls_are_never_recorded_or_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES / "wire", landing)
    data = tmp_path / "data"
    secret = "s3cr3t-Pa55"
    with serving_http(landing) as server:
        url = server.url("/files/grain-exports.txt").replace("http://", f"http://reader:{secret}@")
        ingest(sources=[url + f"?token={secret}"], source_name="private", data_dir=str(data))
    printed = capsys.readouterr()
    assert secret not in printed.out + printed.err
    for path in data.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
