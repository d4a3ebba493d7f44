from __future__ import annotations

import os
import runpy
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openmodule.database import active_databases

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def clean_env(om_clean_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Each test runs in an empty folder in testing mode, and leaves no database open."""
    monkeypatch.setenv("TESTING", "True")
    monkeypatch.chdir(tmp_path)
    yield
    for db in list(active_databases.values()):
        db.shutdown()


@pytest.fixture
def make_alembic(tmp_path: Path) -> Callable[..., str]:
    """make_alembic("r0001_initial", ...) -> a fresh alembic folder holding exactly these revisions."""
    counter = iter(range(1000))

    def make(*revisions: str, path: str | None = None) -> str:
        target = Path(path) if path else tmp_path / f"alembic_{next(counter)}"
        if not target.exists():
            shutil.copytree(FIXTURES / "service", target)
            (target / "alembic" / "versions").mkdir()
        for rev in revisions:
            shutil.copy(FIXTURES / "revisions" / f"{rev}.py", target / "alembic" / "versions" / f"{rev}.py")
        return str(target)

    return make


@pytest.fixture(scope="session")
def models() -> dict[str, Any]:
    """Vehicle / Event classes of the fixture at revision 0002."""
    return runpy.run_path(str(FIXTURES / "service" / "models.py"))


@pytest.fixture
def db_folder(tmp_path: Path) -> str:
    return str(tmp_path / "sqlite")


@pytest.fixture
def sql() -> Callable[..., list[tuple[Any, ...]]]:
    """sql(path, statement) -> rows, through a plain sqlite3 connection (independent of the code under test)."""

    def run(path: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path, timeout=30)
        try:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    return run


@pytest.fixture
def file_bytes() -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    return read


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
