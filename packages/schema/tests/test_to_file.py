from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

from pydantic import BaseModel

from openmodule.utils.schema import Schema


class Zeta(BaseModel):
    z: int


class Alpha(BaseModel):
    a: str = "ä"


def handler(message: Alpha) -> None:
    """Ünïcode description."""


def test_writes_one_line_with_standard_json_defaults(testing: SimpleNamespace, tmp_path: Path) -> None:
    Schema.save_message("t", Alpha, handler)
    target = tmp_path / "out" / "schemas.json"
    Schema.to_file(target)
    text = target.read_text()
    assert text == json.dumps(Schema.render_schema())
    assert "\n" not in text
    assert '"summary": "\\u00dcn\\u00efcode description."' in text  # non-ASCII escaped
    assert [p.name for p in target.parent.iterdir()] == ["schemas.json"]  # no temporary files left


def test_nothing_recorded_writes_nothing(testing: SimpleNamespace, tmp_path: Path) -> None:
    Schema.to_file(tmp_path / "schemas.json")
    assert not (tmp_path / "schemas.json").exists()


def test_target_is_schema_file_env_then_parent_folder(
    testing: SimpleNamespace, tmp_path: Path, monkeypatch
) -> None:
    Schema.save_model(Alpha)
    Schema.to_file()
    assert json.loads((Path.cwd().parent / "schemas.json").read_text())["components"]["schemas"]["Alpha"]
    monkeypatch.setenv("SCHEMA_FILE", str(tmp_path / "env.json"))
    Schema.to_file()
    assert (tmp_path / "env.json").exists()


def test_merges_into_an_existing_document(testing: SimpleNamespace, tmp_path: Path) -> None:
    target = tmp_path / "schemas.json"
    target.write_text(
        json.dumps(
            {
                "openapi": "3.0.0",
                "info": {"title": "RPC & Message API", "version": "1.0.0"},
                "paths": {
                    "/old/path": {"put": {"summary": "kept"}},
                    "/t/handler": {"put": {"summary": "replaced"}},
                },
                "components": {"schemas": {"Zeta": {"title": "old"}, "Beta": {"title": "kept"}}},
            }
        )
    )
    Schema.save_message("t", Alpha, handler)
    Schema.save_model(Zeta)
    Schema.to_file(target)
    document = json.loads(target.read_text())
    assert list(document["paths"]) == ["/old/path", "/t/handler"]
    assert document["paths"]["/old/path"] == {"put": {"summary": "kept"}}
    assert document["paths"]["/t/handler"]["put"]["summary"] == "Ünïcode description."
    assert list(document["components"]["schemas"]) == ["Alpha", "Beta", "Zeta"]
    assert document["components"]["schemas"]["Zeta"]["properties"] == {"z": {"title": "Z", "type": "integer"}}


def test_a_corrupt_document_is_replaced(testing: SimpleNamespace, tmp_path: Path) -> None:
    target = tmp_path / "schemas.json"
    target.write_text('{"openapi": "3.0.0", "pa')
    Schema.save_model(Alpha)
    Schema.to_file(target)
    assert json.loads(target.read_text()) == Schema.render_schema()


def test_concurrent_test_processes_keep_every_entry(tmp_path: Path) -> None:
    target = tmp_path / "schemas.json"
    script = textwrap.dedent("""
        import sys, types
        from openmodule.config import settings
        from openmodule.utils.schema import Schema
        from pydantic import BaseModel, create_model
        settings.configure(types.SimpleNamespace(TESTING=True))
        n = int(sys.argv[1])
        def handler(m):
            "Doc."
        for i in range(20):
            model = create_model(f"M{n}_{i}", x=(int, ...))
            Schema.clear()
            Schema.save_message(f"topic{n}", model, handler)
            Schema.to_file(sys.argv[2])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n), str(target)]) for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    document = json.loads(target.read_text())
    assert sorted(document["paths"]) == [f"/topic{n}/handler" for n in range(4)]
    assert len(document["components"]["schemas"]) == 80
