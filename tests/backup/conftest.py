"""A small world on disk, the `dudao` command run in-process, and archives taken apart.

Archives are read and rebuilt with tarfile, gzip, json and hashlib directly, never with dudao's
own archive code, so a test that corrupts one does it the way a disk or a person would.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import sqlite3
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.bench_backup import build_world
from bot.cli import main


@dataclass
class Site:
    """A data directory and its database, with a config file for the `dudao` command."""

    root: Path
    url: str

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        path = self.root / "dudao.toml"
        if not path.exists():
            path.write_text(f'[service]\ndata_dir = "{self.data}"\n'
                            f'[database]\nurl = "{self.url}"\n', encoding="utf-8")
        return path

    def run(self, *args: str) -> int:
        return main(["--config", str(self.config), *args])


def sqlite_site(tmp_path: Path, name: str) -> Site:
    root = tmp_path / name
    root.mkdir()
    return Site(root, f"sqlite:///{root}/data/dudao.db")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A SQLite world of 300 submissions with 20 attachments (and a board key)."""
    s = sqlite_site(tmp_path, "source")
    build_world(s.url, s.data, submissions=300, tasks=6, files=20)
    (s.data / "web_secret.key").write_text("ab" * 32)
    return s


@pytest.fixture
def empty(tmp_path: Path) -> Site:
    return sqlite_site(tmp_path, "empty")


@pytest.fixture
def json_out(capsys: pytest.CaptureFixture[str]) -> Callable[[], Any]:
    def read() -> Any:
        return json.loads(capsys.readouterr().out)

    return read


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def write_members(archive: Path, content: dict[str, bytes]) -> None:
    with tarfile.open(archive, "w") as tar:
        for name, data in content.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def reseal(content: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute every member's sha256 and the manifest's checksum, as a forger would."""
    manifest = json.loads(content["manifest.json"])
    manifest.pop("checksum")
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                           for n, d in content.items() if n != "manifest.json"}
    manifest["checksum"] = hashlib.sha256(json.dumps(
        manifest, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return {**content, "manifest.json": json.dumps(manifest, ensure_ascii=False).encode()}


def edit_database(content: dict[str, bytes], sql: str, scratch: Path) -> dict[str, bytes]:
    """Run ``sql`` on the archive's database copy (and put it back, compressed)."""
    scratch.write_bytes(gzip.decompress(content["database/dudao.db.gz"]))
    conn = sqlite3.connect(scratch)
    conn.executescript(sql)
    conn.close()
    return {**content, "database/dudao.db.gz": gzip.compress(scratch.read_bytes())}


def table_counts(db_file: Path) -> dict[str, int]:
    conn = sqlite3.connect(db_file)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()
