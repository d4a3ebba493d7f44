from __future__ import annotations

import pydantic
import pytest

from openmodule import config


class Model(pydantic.BaseModel):
    test: bool = False
    count: int = 1


class Required(pydantic.BaseModel):
    needed: int


def test_missing_file_gives_defaults(tmp_path):
    assert config.yaml(Model, tmp_path / "nope.yml") == Model()


def test_missing_file_with_required_fields_raises(tmp_path):
    with pytest.raises(pydantic.ValidationError):
        config.yaml(Required, tmp_path / "nope.yml")


def test_loads_file_and_default_path(tmp_path, monkeypatch):
    f = tmp_path / "c.yml"
    f.write_text("test: true\ncount: 3\n")
    assert config.yaml(Model, f) == Model(test=True, count=3)
    monkeypatch.setenv("CONFIG_YAML", str(f))
    assert config.yaml(Model) == Model(test=True, count=3)


def test_empty_document_is_empty_dict(tmp_path):
    f = tmp_path / "c.yml"
    f.write_text("")
    assert config.yaml(Model, f) == Model()


def test_unknown_tags_become_none(tmp_path):
    class Tagged(pydantic.BaseModel):
        secret: str | None = "x"

    f = tmp_path / "c.yml"
    f.write_text("secret: !vault abc\n")
    assert config.yaml(Tagged, f).secret is None


def test_python_tags_are_not_executed(tmp_path):
    class Tagged(pydantic.BaseModel):
        secret: object = "x"

    marker = tmp_path / "executed"
    f = tmp_path / "c.yml"
    f.write_text(f"secret: !!python/object/apply:os.system ['touch {marker}']\n")
    assert config.yaml(Tagged, f).secret is None
    assert not marker.exists()


def test_malformed_yaml_names_the_file(tmp_path):
    f = tmp_path / "broken.yml"
    f.write_text("test: [unclosed\n")
    with pytest.raises(config.ConfigFileError) as info:
        config.yaml(Model, f)
    assert "broken.yml" in str(info.value) and "not valid YAML" in str(info.value)


def test_invalid_content_names_file_field_and_reason(tmp_path, caplog):
    f = tmp_path / "bad.yml"
    f.write_text("count: many\n")
    with pytest.raises(pydantic.ValidationError) as info:
        config.yaml(Model, f)
    note = "\n".join(info.value.__notes__)
    assert "bad.yml" in note and "field 'count'" in note and "integer" in note
    assert any("bad.yml" in r.getMessage() for r in caplog.records)
