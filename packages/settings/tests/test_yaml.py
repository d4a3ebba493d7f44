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


def test_missing_file_with_required_fields_raises_and_logs(tmp_path, caplog):
    with pytest.raises(pydantic.ValidationError) as info:
        config.yaml(Required, tmp_path / "nope.yml")
    [record] = [r for r in caplog.records if r.name == "openmodule.config"]
    assert record.levelname == "ERROR"
    message = record.getMessage()
    assert message.startswith("something is wrong with the configuration: there is no config file")
    assert "nope.yml" in message and "Required" in message and "field 'needed'" in message
    assert "the defaults of Required do not validate" in "\n".join(info.value.__notes__)


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
    assert any(
        r.getMessage().startswith("something is wrong with the configuration: config file")
        and "bad.yml" in r.getMessage()
        for r in caplog.records
    )


class Anything(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")


def _bomb(levels: int = 9) -> str:
    """The classic "billion laughs": each level is a list of nine aliases of the level below."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_without_expanding(tmp_path, caplog):
    import tracemalloc

    f = tmp_path / "bomb.yml"
    f.write_text(_bomb())
    assert f.stat().st_size < 1024
    tracemalloc.start()
    try:
        with pytest.raises(config.ConfigFileError) as info:
            config.yaml(Anything, f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(info.value)
    assert "bomb.yml" in message and "aliases expand to" in message and "limit of 100000" in message
    assert "CONFIG_YAML_MAX_ALIAS_NODES" in message
    assert peak < 5 * 1024 * 1024  # refused before anything was built, not after
    assert any("bomb.yml" in r.getMessage() for r in caplog.records)


def test_alias_limit_is_configurable(tmp_path, monkeypatch):
    f = tmp_path / "gates.yml"
    # one shared block (a mapping and its 2 keys and 2 values) used by 50 gates: 50 * 5 nodes through aliases
    f.write_text("base: &base {lane: 1, open: true}\n" + "".join(f"gate{i}: *base\n" for i in range(50)))
    loaded = config.yaml(Anything, f)
    assert loaded.model_extra["gate49"] == {"lane": 1, "open": True}
    with pytest.raises(config.ConfigFileError, match="limit of 100"):
        config.yaml(Anything, f, max_alias_nodes=100)
    monkeypatch.setenv("CONFIG_YAML_MAX_ALIAS_NODES", "249")
    with pytest.raises(config.ConfigFileError, match="expand to 250 more nodes, above the limit of 249"):
        config.yaml(Anything, f)
    monkeypatch.setenv("CONFIG_YAML_MAX_ALIAS_NODES", "250")
    assert config.yaml(Anything, f).model_extra["gate0"]["lane"] == 1


def test_recursive_alias_and_deep_nesting_are_refused(tmp_path):
    f = tmp_path / "loop.yml"
    f.write_text("a: &a [1, *a]\n")
    with pytest.raises(config.ConfigFileError, match="loop.yml: a recursive alias at line 1"):
        config.yaml(Anything, f)
    f = tmp_path / "deep.yml"
    f.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(config.ConfigFileError, match="deep.yml: nested too deeply"):
        config.yaml(Anything, f)


def test_impossible_timestamp_is_a_config_error(tmp_path):
    f = tmp_path / "date.yml"
    f.write_text("when: 2001-02-30\n")
    with pytest.raises(config.ConfigFileError, match="date.yml: not valid YAML: day is out of range"):
        config.yaml(Anything, f)
