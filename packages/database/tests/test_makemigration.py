from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from openmodule.database import Database
from openmodule.database.makemigration import template_path

MODEL_V1 = """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from openmodule.database import Base
from openmodule.database.custom_types import JSONEncodedDict, TZDateTime


class Gate(Base):
    __tablename__ = "gate"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30))
    opened = mapped_column(TZDateTime, nullable=True)
    config = mapped_column(JSONEncodedDict, nullable=True)
"""

MODEL_V2 = (
    MODEL_V1
    + """    comment: Mapped[str] = mapped_column(String(50), server_default="")
"""
)


def _run(service: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The venv's bin first (tools/test), then PATH (the Pants sandbox puts its console scripts there).
    script = shutil.which(
        "openmodule_makemigration",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    assert script, "console script missing: openmodule_makemigration"
    return subprocess.run([script, *args], cwd=service, capture_output=True, text=True, timeout=120)


def _versions(service: Path) -> list[Path]:
    return sorted(
        p for p in (service / "src/database/alembic/versions").glob("*.py") if p.name != "__init__.py"
    )


def test_init_and_autogenerate_revisions(tmp_path, db_folder, sql):
    service = tmp_path / "service"
    (service / "src").mkdir(parents=True)
    r = _run(service, "--init")
    assert r.returncode == 0, r.stderr
    assert (service / "src/database/alembic.ini").is_file()
    assert (service / "src/database/alembic/env.py").read_text() == (
        Path(template_path()) / "alembic/env.py"
    ).read_text()
    assert _run(service, "--init").returncode == 1  # never overwrites

    (service / "src/database/models.py").write_text(MODEL_V1)
    r = _run(service, "-m", "initial")
    assert r.returncode == 0, r.stderr
    [first] = _versions(service)
    source = first.read_text()
    assert "initial" in first.name
    assert "from openmodule.database.custom_types import TZDateTime" in source
    assert "from openmodule.database.custom_types import JSONEncodedDict" in source
    assert "sa.Column('opened', TZDateTime(), nullable=True)" in source
    assert (
        source.index("op.pre_upgrade()") < source.index("op.create_table") < source.index("op.post_upgrade()")
    )
    assert "op.pre_downgrade()" in source and "op.post_downgrade()" in source

    r = _run(service, "-m", "nothing")
    assert r.returncode == 0 and "No changes detected" in r.stdout
    assert len(_versions(service)) == 1

    (service / "src/database/models.py").write_text(MODEL_V2)
    r = _run(service, "-m", "comment")
    assert r.returncode == 0, r.stderr
    second = [p for p in _versions(service) if p != first][0]
    assert "batch_alter_table('gate'" in second.read_text()
    assert "add_column(sa.Column('comment'" in second.read_text()

    # the service opens it (child process migration imports database.models through the template env.py)
    os.chdir(service / "src")
    db = Database(db_folder, "svc", alembic_path="database")
    cols = [r[1] for r in sql(db.path, "PRAGMA table_info(gate)")]
    assert cols == ["id", "name", "opened", "config", "comment"]
    db.shutdown()


def test_missing_folder_is_reported(tmp_path):
    r = _run(tmp_path, "-m", "x", "--path", "nowhere")
    assert r.returncode == 1
    assert "does not exist" in r.stderr
