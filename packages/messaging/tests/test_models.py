from __future__ import annotations

import importlib
import site
import sys
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import ValidationError

from openmodule.models.base import (
    Base64Payload,
    CostEntryData,
    Datetime,
    Direction,
    EmptyModel,
    Gateway,
    NaiveDatetimeWarning,
    OpenModuleModel,
    OpenModuleRootModel,
    Timestamp,
    ZMQMessage,
    base64_validator,
    datetime_to_timestamp,
    encode_json,
    timezone_validator,
)

T0 = datetime(2024, 1, 31, 12, 0, 0, 250000)


class Inner(OpenModuleModel):
    a: int
    b: str | None = None
    startup: Timestamp


class Demo(ZMQMessage):
    type: str = "demo"
    text: str
    extra: dict[str, object] = {}
    inner: Inner | None = None
    at: Datetime | None = None


def test_golden_bytes_of_a_plain_message() -> None:
    msg = ZMQMessage(timestamp=datetime(2024, 1, 31, 12, 0, 0), name="svc", type="demo")
    assert msg.json_bytes() == b'{"timestamp":1706702400.0,"name":"svc","type":"demo"}'


def test_golden_bytes_with_unicode_nesting_none_and_datetimes() -> None:
    msg = Demo(
        timestamp=T0,
        name="svc",
        text='Grüße \U0001f697\x7f\n/"',
        extra={"k": None, "n": 1.5},
        inner=Inner(a=1, startup=T0),
        at=T0,
    )
    assert msg.json_bytes() == (
        b'{"timestamp":1706702400.25,"name":"svc","type":"demo",'
        b'"text":"Gr\\u00fc\\u00dfe \\ud83d\\ude97\\u007f\\n/\\"",'
        b'"extra":{"k":null,"n":1.5},"inner":{"a":1,"startup":1706702400.25},'
        b'"at":"2024-01-31T12:00:00.250000"}'
    )


def test_encode_json_types() -> None:
    class Color(Enum):
        RED = "red"

    data = {"d": Decimal("1.10"), "u": UUID(int=1), "e": Color.RED, "t": datetime(2024, 1, 1), "x": "\u00e9"}
    assert encode_json(data) == (
        b'{"d":"1.10","u":"00000000-0000-0000-0000-000000000001","e":"red",'
        b'"t":"2024-01-01T00:00:00","x":"\\u00e9"}'
    )
    with pytest.raises(TypeError):
        encode_json({"x": object()})


def test_timestamp_inputs_are_normalized_to_naive_utc() -> None:
    aware = datetime(2024, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert ZMQMessage(type="x", timestamp=aware).timestamp == datetime(2024, 1, 31, 12, 0)
    assert ZMQMessage(type="x", timestamp=1706702400.5).timestamp == datetime(2024, 1, 31, 12, 0, 0, 500000)
    assert ZMQMessage(type="x", timestamp="2024-01-31T13:00:00+01:00").timestamp == datetime(2024, 1, 31, 12)
    assert datetime_to_timestamp(datetime(1970, 1, 2)) == 86400.0
    assert datetime_to_timestamp(datetime(1970, 1, 2, 1, tzinfo=timezone(timedelta(hours=1)))) == 86400.0


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1706702400.5, datetime(2024, 1, 31, 12, 0, 0, 500000)),  # seconds, the wire's unit
        (1706702400500, datetime(2024, 1, 31, 12, 0, 0, 500000)),  # milliseconds (pydantic v1 reading)
        (1706702400500000, datetime(2024, 1, 31, 12, 0, 0, 500000)),  # microseconds
        (-1e12, datetime(1938, 4, 24, 22, 13, 20)),  # negative milliseconds
    ],
)
def test_epoch_numbers_above_2e10_are_read_as_smaller_units(number: float, expected: datetime) -> None:
    assert ZMQMessage(type="x", timestamp=number).timestamp == expected
    assert Demo(text="", at=number).at == expected  # the Datetime annotation reads them alike


@pytest.mark.parametrize(
    "value",
    [
        1e300,
        -1e300,
        3.1e20,
        float("nan"),
        float("inf"),
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-05:00",
    ],
)
def test_datetimes_without_a_naive_utc_form_are_validation_errors(value: object) -> None:
    # An OverflowError here used to escape validation and end a service's receiving thread.
    with pytest.raises(ValidationError, match="out of range"):
        ZMQMessage(type="x", timestamp=value)
    with pytest.raises(ValidationError, match="out of range"):
        Demo(text="", at=value)


def test_name_defaults_to_settings_name(config) -> None:
    assert ZMQMessage(type="x").name == "bus-test"
    assert ZMQMessage(type="x", name=None).name == "bus-test"
    now = datetime.now(UTC).replace(tzinfo=None)
    assert abs((ZMQMessage(type="x", timestamp=None).timestamp - now).total_seconds()) < 60


def test_roundtrip_of_wire_json() -> None:
    msg = Demo(timestamp=T0, name="svc", text="ä", inner=Inner(a=2, startup=T0), at=T0)
    again = Demo.model_validate_json(msg.json_bytes())
    assert again == msg


def test_lenient_parsing_and_v1_shims() -> None:
    msg = Demo.parse_obj({"type": "demo", "name": 12, "text": 3.5, "timestamp": 0, "unknown": 1})
    assert (msg.name, msg.text) == ("12", "3.5")
    assert msg.dict() == {"timestamp": 0.0, "name": "12", "type": "demo", "text": "3.5", "extra": {}}
    with pytest.raises(AssertionError, match="json_bytes"):
        msg.json()


def test_model_dump_keeps_pydantic_defaults_and_the_wire_encoders_do_not() -> None:
    # Packages built on OpenModuleModel serialise with model_dump()/model_dump_json() and expect pydantic's
    # defaults (field names, None kept); json_bytes(), dict() and wire_dict() apply the wire rules.
    from openmodule.models.base import wire_dict

    msg = ZMQMessage(type="x", name="n", timestamp=0, sentry_trace="t")
    dumped = msg.model_dump()
    assert dumped["sentry_trace"] == "t" and dumped["baggage"] is None
    assert '"sentry_trace":"t"' in msg.model_dump_json() and '"baggage":null' in msg.model_dump_json()
    wire = {"timestamp": 0.0, "name": "n", "type": "x", "sentry-trace": "t"}
    assert msg.dict() == wire == wire_dict(msg)
    assert msg.json_bytes() == b'{"timestamp":0.0,"name":"n","type":"x","sentry-trace":"t"}'
    assert msg.dict(exclude_none=False)["baggage"] is None  # explicit arguments still win


def test_alias_and_tracing_fields() -> None:
    msg = ZMQMessage.model_validate({"type": "x", "name": "n", "timestamp": 0, "sentry-trace": "abc"})
    assert msg.sentry_trace == "abc"
    assert msg.json_bytes() == b'{"timestamp":0.0,"name":"n","type":"x","sentry-trace":"abc"}'


def test_validate_assignment() -> None:
    msg = Demo(text="a", name="n")
    with pytest.raises(ValidationError):
        msg.inner = "nope"  # type: ignore[assignment]


def test_empty_root_gateway_direction() -> None:
    assert EmptyModel().json_bytes() == b"{}"

    class Plates(OpenModuleRootModel):
        root: list[str]

    assert Plates(["A", "ü"]).json_bytes() == b'["A","\\u00fc"]'
    assert str(Gateway(gate="gate_1", direction="in")) == "gate_1/in"
    assert str(Gateway()) == "/"
    assert Gateway(gate="g", direction=Direction.OUT).json_bytes() == b'{"gate":"g","direction":"out"}'


def test_base64() -> None:
    class Payload(OpenModuleModel):
        data: Base64Payload
        legacy: str = "AA=="
        _check = base64_validator("legacy")

    assert Payload(data="aGVsbG8=").data == "aGVsbG8="
    with pytest.raises(ValidationError, match="must be a base64 string"):
        Payload(data="not base64!")
    with pytest.raises(ValidationError, match="must be a base64 string"):
        Payload(data="AA==", legacy="%%%")


def test_base64_validator_on_a_bytes_field_checks_the_text() -> None:
    class Blob(OpenModuleModel):
        raw: bytes
        _check = base64_validator("raw")

    assert Blob(raw="AAAA").raw == b"AAAA"  # the field keeps the base64 text (as bytes), it is not decoded
    for wrong in ("AAAAA", "AA=", b"AA AA", "AA\n=="):
        with pytest.raises(ValidationError, match="must be a base64 string"):
            Blob(raw=wrong)


@pytest.mark.parametrize(
    ("entry_type", "value", "expected"),
    [
        ("rate_change", 5, "5"),
        ("static_cost", "12", 12),
        ("time_validation", "7", 7),
        ("payment", 3.0, 3),
        ("other", "x", "x"),
        ("rate_change", None, None),
    ],
)
def test_cost_entry_coercion(entry_type: str, value: object, expected: object) -> None:
    entry = CostEntryData(entry_type=entry_type, value=value, account_id="acc")
    assert entry.value == expected


def test_a_services_own_datetime_field_without_the_validator_fails_in_testing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reference's rule for the service's own models: an AssertionError at class definition.
    monkeypatch.setenv("TESTING", "true")
    with pytest.raises(AssertionError, match=r"Bad\.at is a datetime without .*timezone_validator\('at'\)"):

        class Bad(OpenModuleModel):
            at: datetime

    class Good(OpenModuleModel):
        at: Datetime
        maybe: Datetime | None = None
        legacy: datetime | None = None
        _tz = timezone_validator("legacy")

    aware = datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    good = Good(at=aware, legacy=aware)
    assert (good.at, good.legacy) == (datetime(2024, 1, 1), datetime(2024, 1, 1))


def test_an_installed_packages_datetime_field_without_the_validator_only_warns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A model of an installed distribution (site-packages) is not the service's to fix: it must import.
    site_packages = tmp_path / "site-packages"
    (site_packages / "vendor_models").mkdir(parents=True)
    module = site_packages / "vendor_models" / "__init__.py"
    module.write_text(
        "from datetime import datetime\n"
        "from openmodule.models.base import OpenModuleModel\n\n"
        "class Tariff(OpenModuleModel):\n"
        "    valid_from: datetime\n"
    )
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(site_packages)])
    monkeypatch.syspath_prepend(str(site_packages))
    monkeypatch.setenv("TESTING", "true")
    with pytest.warns(NaiveDatetimeWarning, match=r"Tariff\.valid_from is a datetime without") as info:
        vendor = importlib.import_module("vendor_models")
    monkeypatch.delitem(sys.modules, "vendor_models")
    assert info[0].filename == str(module)  # points at the class statement
    aware = datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert vendor.Tariff(valid_from=aware).valid_from == aware  # kept as given


def test_json_bytes_direct_path_equals_dict_and_honours_overrides() -> None:
    class Shouting(ZMQMessage):
        type: str = "shout"
        text: str

        def model_dump(self, **kwargs: object) -> dict[str, object]:  # type: ignore[override]
            data = super().model_dump(**kwargs)
            data["text"] = str(data["text"]).upper()
            return data

    class Quiet(Shouting):
        pass

    msg = Demo(timestamp=T0, name="svc", text="x", inner=Inner(a=1, startup=T0), at=T0)
    assert msg.json_bytes() == encode_json(msg.dict())
    assert b'"sentry-trace"' in Demo(timestamp=T0, name="s", text="x", sentry_trace="t").json_bytes()
    # an overridden model_dump() (or dict()) is used by json_bytes(), also in a subclass that inherits it
    for cls in (Shouting, Quiet, Shouting):
        assert cls(timestamp=T0, name="svc", text="hi").json_bytes() == (
            b'{"timestamp":1706702400.25,"name":"svc","type":"shout","text":"HI"}'
        )

    class Whispering(ZMQMessage):  # a pydantic-v1 era service overrides dict()
        type: str = "whisper"
        text: str

        def dict(self, **kwargs: object) -> dict[str, object]:  # type: ignore[override]
            data = super().dict(**kwargs)
            data["text"] = str(data["text"]).lower()
            return data

    assert Whispering(timestamp=T0, name="svc", text="HI").json_bytes() == (
        b'{"timestamp":1706702400.25,"name":"svc","type":"whisper","text":"hi"}'
    )
    # the decision is made per class: a sibling class without an override keeps its own text
    assert b'"text":"hi"' in Demo(timestamp=T0, name="svc", text="hi").json_bytes()


def test_utcnow_is_naive_utc() -> None:
    from openmodule.models.base import utcnow

    before = datetime.now(UTC).replace(tzinfo=None)
    now = utcnow()
    after = datetime.now(UTC).replace(tzinfo=None)
    assert now.tzinfo is None and type(now) is datetime
    assert before <= now <= after
    aware = datetime(2024, 1, 31, 13, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert Demo(timestamp=aware, name="s", text="x").timestamp == datetime(2024, 1, 31, 12, 0, 0, 5)


def test_wire_dict_and_validate_as_honour_overrides() -> None:
    from openmodule.models.base import OpenModuleModel, validate_as, wire_dict

    class Plain(OpenModuleModel):
        value: int
        note: str | None = None

    class OwnDump(Plain):
        def model_dump(self, **kwargs):  # type: ignore[override]
            return {"custom": self.value}

    class OwnValidate(Plain):
        @classmethod
        def model_validate(cls, obj, **kwargs):  # type: ignore[override]
            return cls(value=obj["v"] * 2)

    assert wire_dict(Plain(value=1)) == {"value": 1}  # by alias, None fields left out
    assert wire_dict(OwnDump(value=3)) == {"custom": 3}
    assert validate_as(Plain, {"value": "4"}).value == 4
    assert validate_as(OwnValidate, {"v": 5}).value == 10
    with pytest.raises(ValidationError):
        validate_as(Plain, {"value": "x"})


def test_v1_style_attributes_without_annotation_are_fields() -> None:
    # pydantic v2 refuses these classes; pydantic v1 made each attribute a field, and services rely on it.
    class Fixed(ZMQMessage):
        type = "fixed"  # overrides the inherited field: keeps its type
        name = "fixed-name"  # an inherited default factory is replaced by the value
        sentry_trace = "t"  # the inherited alias stays

    class Payload(OpenModuleModel):
        kind = "a"  # new fields take the type of their value and follow the annotated ones
        count: int = 0
        limit = 5
        nothing = None

    fixed = Fixed()
    assert (fixed.type, fixed.name, fixed.sentry_trace) == ("fixed", "fixed-name", "t")
    assert Fixed(type="other").type == "other"
    assert b'"sentry-trace":"t"' in fixed.json_bytes()
    with pytest.raises(ValidationError):
        Fixed(type=["not", "a", "str"])
    assert list(Payload.model_fields) == ["count", "kind", "limit", "nothing"]
    assert Payload().json_bytes() == b'{"count":0,"kind":"a","limit":5}'
    assert Payload(nothing=[1]).nothing == [1]
    with pytest.raises(ValidationError):
        Payload(limit="many")


def test_classes_valid_under_v2_keep_their_meaning() -> None:
    from typing import ClassVar

    class Service(OpenModuleModel):
        value: int = 1
        VERSION: ClassVar[int] = 2
        _cache = {}

        @property
        def double(self) -> int:
            return self.value * 2

        def triple(self) -> int:
            return self.value * 3

        class Nested:
            pass

    assert list(Service.model_fields) == ["value"]
    service = Service()
    assert (service.double, service.triple(), Service.VERSION) == (2, 3, 2)
    assert service.json_bytes() == b'{"value":1}'


def make_v1_root_model() -> tuple[type, type, type]:
    from typing import Union

    class Number(OpenModuleModel):
        some_int: int

    class Text(OpenModuleModel):
        some_str: str

    class Either(OpenModuleModel):
        __root__: Union[Number, Text]

    return Number, Text, Either


def test_v1_root_models_are_root_models() -> None:
    # pydantic v2 refuses `__root__`; v1 made the model's JSON the root value itself.
    Number, Text, Either = make_v1_root_model()
    either = Either(__root__=Text(some_str="x"))
    assert either.__root__ == either.root == Text(some_str="x")
    assert either.json_bytes() == b'{"some_str":"x"}' and either.dict() == {"some_str": "x"}
    assert Either.model_validate({"some_str": 1}) == Either(__root__=Text(some_str="1"))
    assert Either.parse_obj({"some_int": 2}).root == Number(some_int=2)
    assert isinstance(either, OpenModuleRootModel)
    with pytest.raises(ValidationError):
        Either.model_validate({})


def test_forward_references_to_local_classes_resolve_where_the_class_was_defined() -> None:
    # This module uses `from __future__ import annotations`: `Leaf` is a string resolved later, from the
    # namespace of the function that defined the classes (even when used outside of it).
    def define() -> type:
        class Leaf(OpenModuleModel):
            x: int

        class Tree(OpenModuleModel):
            leaf: Leaf

        return Tree

    Tree = define()
    assert Tree.model_validate({"leaf": {"x": 1}}).leaf.x == 1
    assert Tree.__pydantic_parent_namespace__ is not None and "Leaf" in Tree.__pydantic_parent_namespace__
    assert Demo.__pydantic_parent_namespace__ is None  # module level: nothing recorded
