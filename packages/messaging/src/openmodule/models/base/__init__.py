"""Base models of everything openmodule sends and receives (pydantic v2).

Usage::

    from openmodule.models.base import ZMQMessage, Datetime

    class DemoMessage(ZMQMessage):
        type: str = "demo"
        value: int
        at: Datetime | None = None

    DemoMessage(value=1).json_bytes()   # the ASCII wire JSON
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
import warnings
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Self,
    TypeVar,
    dataclass_transform,
    get_args,
    get_origin,
)
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    RootModel,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from openmodule.config import GlobalSettings, SettingsModuleNotFound, settings

__all__ = [
    "Base64Payload",
    "CostEntryData",
    "Datetime",
    "Direction",
    "EmptyModel",
    "Gateway",
    "NaiveDatetimeError",
    "NaiveDatetimeWarning",
    "OpenModuleModel",
    "OpenModuleRootModel",
    "Timestamp",
    "ZMQMessage",
    "base64_validator",
    "datetime_to_timestamp",
    "encode_json",
    "keeps_pydantic_validate",
    "timezone_validator",
    "utcnow",
    "validate_as",
    "wire_dict",
]

M = TypeVar("M", bound=BaseModel)

_EPOCH = datetime(1970, 1, 1)
_EPOCH_AWARE = datetime(1970, 1, 1, tzinfo=UTC)


def _strip_tz(value: datetime) -> datetime:
    # Same value as value.replace(tzinfo=None), at a third of the cost (replace() parses keywords);
    # utcnow() runs for every message built without a timestamp.
    return datetime.combine(value.date(), value.time())


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (the form every model field holds)."""
    return _strip_tz(datetime.now(UTC))


def datetime_to_timestamp(dt: datetime) -> float:
    """Seconds since the Unix epoch; a naive ``dt`` is taken as UTC."""
    if dt.tzinfo is None:
        return (dt - _EPOCH).total_seconds()
    return (dt - _EPOCH_AWARE).total_seconds()


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            return value.astimezone(UTC).replace(tzinfo=None)  # keeps a datetime subclass (not hot)
        except OverflowError:
            # 0001-01-01T00:00:00+01:00 has no UTC form: a ValueError is what pydantic reports as invalid
            # input (an OverflowError would escape validation and end the receiving thread).
            raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from None
    return value


#: pydantic v1's reading of epoch numbers (what deployed senders rely on): a value above 2e10 is taken as
#: milliseconds (then microseconds, nanoseconds) and divided by 1000 until it is not.
_MS_WATERSHED = 2e10
#: Beyond this no unit makes a date out of the number (v1 clamped to datetime.max; we refuse it).
_MAX_EPOCH_NUMBER = 3e20


def _from_epoch(value: float) -> datetime:
    """Naive UTC datetime of an epoch number; ``ValueError`` (a validation error) if it has none."""
    if not -_MAX_EPOCH_NUMBER <= value <= _MAX_EPOCH_NUMBER:  # also NaN and the infinities
        raise ValueError(f"epoch timestamp {value!r} is out of range")
    while abs(value) > _MS_WATERSHED:
        value /= 1000
    return _EPOCH + timedelta(seconds=value)


def _datetime_wrap(value: Any, handler: Any) -> datetime:
    # One Python call per field on the hot receive path: epoch numbers (what the wire carries) are
    # converted directly, everything else goes through pydantic and is then normalized.
    kind = type(value)
    if kind is float or kind is int:
        if -_MS_WATERSHED <= value <= _MS_WATERSHED:  # seconds: the wire's unit (hot path, no call)
            return _EPOCH + timedelta(seconds=value)
        return _from_epoch(value)
    if kind is datetime and value.tzinfo is None:
        naive: datetime = value  # `kind is datetime` does not narrow for type checkers; no call on this path
        return naive
    result = handler(value)
    return _to_naive_utc(result) if isinstance(result, datetime) else result


def _timestamp_wrap(value: Any, handler: Any) -> datetime:
    # _datetime_wrap's fast cases repeated here: this runs for every message sent and received.
    kind = type(value)
    if kind is float or kind is int:
        if -_MS_WATERSHED <= value <= _MS_WATERSHED:  # seconds: the wire's unit (hot path, no call)
            return _EPOCH + timedelta(seconds=value)
        return _from_epoch(value)
    if kind is datetime and value.tzinfo is None:
        naive: datetime = value  # `kind is datetime` does not narrow for type checkers; no call on this path
        return naive
    return utcnow() if value is None else _datetime_wrap(value, handler)


def _check_base64(value: str | bytes | bytearray) -> Any:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be a base64 string") from None
    return value


#: A datetime field: accepts ISO text or epoch numbers, holds naive UTC, is sent as ISO text.
Datetime = Annotated[datetime, WrapValidator(_datetime_wrap)]
#: A datetime field sent as epoch float seconds at any nesting depth (``ZMQMessage.timestamp``, ``startup``).
Timestamp = Annotated[
    datetime,
    WrapValidator(_timestamp_wrap),
    PlainSerializer(datetime_to_timestamp, return_type=float, when_used="always"),
]
#: A ``str`` field whose value must decode as base64.
Base64Payload = Annotated[str, AfterValidator(_check_base64)]


def timezone_validator(*fields: str) -> Any:
    """12.x helper: a validator normalizing the named datetime fields to naive UTC.

    Usage (in a class body)::  ``_tz = timezone_validator("start", "end")``.
    Prefer the :data:`Datetime` annotation in new code.
    """

    def _validate(cls: type, value: Any) -> Any:
        return _to_naive_utc(value) if isinstance(value, datetime) else value

    _validate.__openmodule_timezone_validator__ = True  # type: ignore[attr-defined]
    return field_validator(*fields, mode="after")(_validate)


def base64_validator(*fields: str) -> Any:
    """12.x helper: a validator requiring the named fields to be base64 text ("must be a base64 string")."""

    def _validate(cls: type, value: Any) -> Any:
        if isinstance(value, bytes | bytearray):  # a ``bytes`` field holds the text as bytes: check it too
            _check_base64(value)
            return value
        return _check_base64(value) if isinstance(value, str) else value

    return field_validator(*fields, mode="after")(_validate)


def _json_default(value: Any) -> Any:
    # orjson semantics for the types it does not know itself (Decimal, freezegun's fake datetimes, models).
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    if isinstance(value, datetime):
        return value.isoformat()
    from decimal import Decimal

    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"type {type(value).__name__} is not JSON serializable")


def _escape_char(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def encode_json(value: object) -> bytes:
    """JSON bytes exactly as the wire wants them: compact, ASCII only, lowercase ``\\uXXXX`` escapes."""
    data = orjson.dumps(value, default=_json_default)
    if data.isascii() and b"\x7f" not in data:
        return data
    text = data.decode("utf-8")
    return "".join(c if " " <= c <= "~" else _escape_char(c) for c in text).encode("ascii")


def _has_naive_utc_validator(annotation: Any) -> bool:
    """Does every ``datetime`` inside ``annotation`` carry the naive-UTC validator?"""
    if annotation is datetime:
        return False
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        if base is datetime:
            return any(getattr(m, "func", None) in _NAIVE_UTC_VALIDATORS for m in meta)
        return _has_naive_utc_validator(base)
    return all(_has_naive_utc_validator(arg) for arg in get_args(annotation))


_NAIVE_UTC_VALIDATORS = (_to_naive_utc, _datetime_wrap, _timestamp_wrap)


class NaiveDatetimeWarning(UserWarning):
    """A model of an installed package (checked in DEBUG/TESTING) has a ``datetime`` field without the
    naive-UTC validator."""


class NaiveDatetimeError(AssertionError):
    """A service's own model (checked in DEBUG/TESTING) has a ``datetime`` field without the naive-UTC
    validator: the reference's check, an ``AssertionError`` at class definition."""


def _installed_package_paths() -> tuple[str, ...]:
    import site
    import sysconfig

    paths = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    user_site = site.getusersitepackages()
    if isinstance(user_site, str):
        paths.add(user_site)
    return tuple(os.path.join(os.path.realpath(p), "") for p in paths if p)


def _from_installed_package(cls: type) -> bool:
    """Is ``cls`` defined by an installed distribution (site-packages), not by the code under test?"""
    import sys

    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return False
    return os.path.realpath(path).startswith(_installed_package_paths())


def _find_stacklevel() -> int:
    """The stacklevel of the first frame outside pydantic and this module (the class statement)."""
    import sys

    frame = sys._getframe(1)
    level = 1
    while frame is not None and (frame.f_globals.get("__name__", "").startswith(("pydantic", __name__))):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _check_datetime_fields(cls: type[BaseModel]) -> None:
    validated: set[str] = set()
    for dec in cls.__pydantic_decorators__.field_validators.values():
        if getattr(dec.func, "__openmodule_timezone_validator__", False):
            validated.update(dec.info.fields)
    for name, field in cls.model_fields.items():
        if name in validated or "*" in validated:
            continue
        annotation = field.annotation
        if field.metadata and any(getattr(m, "func", None) in _NAIVE_UTC_VALIDATORS for m in field.metadata):
            continue
        if not _has_naive_utc_validator(annotation):
            problem = (
                f"{cls.__module__}.{cls.__qualname__}.{name} is a datetime without the timezone validator: "
                "aware datetimes are kept as they are instead of being normalized to naive UTC. Annotate it "
                f"with openmodule.models.base.Datetime (or add timezone_validator({name!r}))."
            )
            # The service's own models are held to the rule (as in the reference); a model of an
            # installed package is not the service's to fix and must always import: a warning.
            if not _from_installed_package(cls):
                raise NaiveDatetimeError(problem)
            warnings.warn(problem, NaiveDatetimeWarning, stacklevel=_find_stacklevel())


def _strict_models() -> bool:
    # Checked at class definition (import time), so read the environment, not the lazy settings.
    from openmodule.config import debug, testing

    return testing() or debug() or os.environ.get("OPENMODULE_CHECK_MODELS") == "1"


_PLAIN_VALUE_TYPES: tuple[type, ...] = (
    str,
    bytes,
    int,
    float,
    complex,
    Decimal,
    list,
    tuple,
    dict,
    set,
    frozenset,
    Enum,
    datetime,
    date,
    time,
    timedelta,
    UUID,
    BaseModel,
    type(None),
)


def _annotate_v1_attributes(bases: tuple[type, ...], namespace: dict[str, Any]) -> None:
    """Give un-annotated plain class attributes their pydantic-v1 meaning (v2 refuses the class).

    v1 made ``type = "x"`` a field: of the inherited field's type (keeping its alias and constraints) when
    it overrides one, otherwise of the value's type, ordered after the annotated fields. Only attributes
    v2 rejects are touched (public names holding plain data), so classes valid under v2 are unchanged.
    """
    annotations = namespace.get("__annotations__")
    if annotations is not None and not isinstance(annotations, dict):
        return
    own = set(annotations or ())
    inherited: dict[str, FieldInfo] = {}
    for base in bases:
        for key, field in (getattr(base, "__pydantic_fields__", None) or {}).items():
            inherited.setdefault(key, field)
    added: dict[str, Any] = {}
    for key, value in list(namespace.items()):
        if key.startswith("_") or key in own or key == "model_config":
            continue
        if not isinstance(value, _PLAIN_VALUE_TYPES):
            continue
        field = inherited.get(key)
        if field is not None:
            added[key] = field.annotation
            namespace[key] = FieldInfo.merge_field_infos(field, default=value, default_factory=None)
        else:
            added[key] = Any if value is None else type(value)
    if added:
        namespace["__annotations__"] = {**(annotations or {}), **added}


def _class_statement_namespace() -> Any:
    """The local namespace of the frame running the class statement (None at module level), as pydantic
    records it for forward references; called from the metaclass, one frame further away than pydantic's."""
    frame = sys._getframe(2)
    if frame.f_code.co_name.startswith("<generic parameters of") and frame.f_back is not None:
        frame = frame.f_back
    if frame.f_back is None or frame.f_code.co_name == "<module>":
        return None
    try:
        from pydantic._internal._model_construction import build_lenient_weakvaluedict
    except ImportError:  # pragma: no cover - a later pydantic: keep the plain mapping
        return dict(frame.f_locals)
    return build_lenient_weakvaluedict(frame.f_locals)


def _v1_root_model(
    namespace: dict[str, Any], name: str, kwargs: dict[str, Any], parent_namespace: Any
) -> Any:
    """A pydantic-v1 ``__root__`` model (v2 refuses the field) as an ``OpenModuleRootModel`` subclass.

    ``Model(__root__=value)``, ``Model.parse_obj(value)`` and ``instance.__root__`` keep working.
    """
    annotations = dict(namespace["__annotations__"])
    body = {k: v for k, v in namespace.items() if k not in ("__annotations__", "__root__")}
    body["__annotations__"] = {"root": annotations.pop("__root__")}
    if "__root__" in namespace:
        body["root"] = namespace["__root__"]
    body.setdefault("__init__", _v1_root_init)
    metaclass: Any = type(OpenModuleRootModel)
    cls = metaclass(name, (OpenModuleRootModel,), body, **kwargs)
    cls.__pydantic_parent_namespace__ = parent_namespace
    cls.__root__ = property(
        lambda self: self.root, doc="pydantic-v1 name of ``root``"
    )  # after pydantic saw it
    return cls


def _v1_root_init(self: Any, root: Any = PydanticUndefined, **data: Any) -> None:
    if "__root__" in data:
        root = data.pop("__root__")
    RootModel.__init__(self, root, **data)


if TYPE_CHECKING:
    import zmq
    from pydantic._internal._model_construction import ModelMetaclass as _PydanticModelMetaclass
else:  # the same class, without importing pydantic's private module at run time
    _PydanticModelMetaclass = type(BaseModel)


# Type checkers do not carry pydantic's dataclass_transform over to a derived metaclass: without this, every
# model's constructor would be `(**data: Any)` to them instead of its fields. (At run time it only sets an
# attribute on the metaclass.)
@dataclass_transform(kw_only_default=True, field_specifiers=(Field, PrivateAttr))
class _OpenModuleModelMetaclass(_PydanticModelMetaclass):
    """pydantic's model metaclass, accepting the v1-era class attributes existing services define."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any) -> type:
        reset = kwargs.get("__pydantic_reset_parent_namespace__", True)
        # pydantic records the namespace of the frame calling its metaclass (this one): keep the class
        # statement's instead, as it would without this metaclass (forward references to local names).
        parent_namespace = _class_statement_namespace() if reset else None
        annotations = namespace.get("__annotations__")
        if (
            isinstance(annotations, dict)
            and "__root__" in annotations
            and all(not getattr(base, "__pydantic_fields__", None) for base in bases)
        ):
            return _v1_root_model(namespace, name, kwargs, parent_namespace)  # type: ignore[no-any-return]
        _annotate_v1_attributes(bases, namespace)
        cls: Any = super().__new__(mcs, name, bases, namespace, **kwargs)
        if reset:
            cls.__pydantic_parent_namespace__ = parent_namespace
        return cls  # type: ignore[no-any-return]


class OpenModuleModel(BaseModel, metaclass=_OpenModuleModelMetaclass):
    """Base of every openmodule model: lenient parsing of received data, ``json_bytes()`` for the wire.

    Usage::

        class Car(OpenModuleModel):
            plate: str
        Car(plate="G ARIVO1").json_bytes()      # b'{"plate":"G ARIVO1"}'
        Car.model_validate({"plate": 123})      # numbers are accepted for str fields

    ``json_bytes()``, publishing and the v1-style ``dict()`` use the wire rules (``by_alias=True,
    exclude_none=True``); ``model_dump()`` / ``model_dump_json()`` keep pydantic's own defaults; ``json()``
    is refused (it would not produce the wire encoding). v1-era class attributes without annotation
    (``type = "x"``) are fields, as they were in pydantic v1.
    """

    model_config = ConfigDict(
        validate_assignment=True,
        validate_default=True,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        use_enum_values=False,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if _strict_models():
            try:
                _check_datetime_fields(cls)
            except NaiveDatetimeError:
                raise
            except Exception as exc:  # a development aid: it must never keep a model from being defined
                warnings.warn(
                    f"could not check the datetime fields of {cls.__qualname__}: {exc!r}", stacklevel=2
                )

    def dict(self, **kwargs: Any) -> dict[str, Any]:
        """pydantic-v1 style dump with the wire defaults ``by_alias=True, exclude_none=True``.

        ``model_dump()`` keeps pydantic's own defaults (field names, ``None`` included), as in the
        reference's pydantic-v2 line: code written for pydantic v2 gets what it expects.
        """
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_none", True)
        return self.model_dump(**kwargs)

    @classmethod
    def parse_obj(cls, obj: object) -> Self:
        """pydantic-v1 style alias of ``model_validate()``, kept for existing services."""
        return cls.model_validate(obj)

    def json(self, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("json() does not produce the wire encoding: use json_bytes()")

    def json_bytes(self) -> bytes:
        """The model as wire JSON: by alias, without ``None`` fields, ASCII only.

        A subclass's own ``dict()`` or ``model_dump()`` is honoured.
        """
        if _dumps_plainly(type(self)):
            # Same arguments dict() passes, without its Python-level calls (hot publish path).
            return encode_json(self.__pydantic_serializer__.to_python(self, by_alias=True, exclude_none=True))
        return encode_json(self.dict())

    _openmodule_plain_dump: ClassVar[bool | None] = None


_PYDANTIC_MODEL_DUMP = BaseModel.model_dump
_OPENMODULE_DICT = OpenModuleModel.dict


def _dumps_plainly(cls: type[OpenModuleModel]) -> bool:
    """Whether ``cls`` keeps pydantic's ``model_dump`` and OpenModuleModel's ``dict`` (cached on the class).

    json_bytes() and wire_dict() must keep honouring a subclass's own dict()/model_dump(); only classes
    that inherit both may take the direct serializer call.
    """
    plain = cls.__dict__.get("_openmodule_plain_dump")
    if plain is None:
        plain = (
            getattr(cls.model_dump, "__func__", cls.model_dump) is _PYDANTIC_MODEL_DUMP
            and getattr(cls.dict, "__func__", cls.dict) is _OPENMODULE_DICT
        )
        cls._openmodule_plain_dump = plain
    return plain


_PYDANTIC_MODEL_VALIDATE = BaseModel.model_validate.__func__  # type: ignore[attr-defined]


def keeps_pydantic_validate(cls: type[BaseModel]) -> bool:
    """Whether ``cls.model_validate`` is pydantic's own, so its validator may be called directly."""
    return getattr(getattr(cls, "model_validate", None), "__func__", None) is _PYDANTIC_MODEL_VALIDATE


def wire_dict(model: BaseModel) -> dict[str, Any]:
    """The wire form of a payload as a dict (``by_alias=True, exclude_none=True``).

    Classes that keep pydantic's ``model_dump`` and OpenModuleModel's ``dict`` are serialized by a direct
    call (hot RPC path); an overridden ``dict()`` or ``model_dump()`` is always honoured.
    """
    if isinstance(model, OpenModuleModel):
        if _dumps_plainly(type(model)):
            return model.__pydantic_serializer__.to_python(model, by_alias=True, exclude_none=True)  # type: ignore[no-any-return]
        return model.dict()
    return model.model_dump(by_alias=True, exclude_none=True)


def validate_as(cls: type[M], data: object, **kwargs: Any) -> M:
    """``cls.model_validate(data, **kwargs)``, by a direct validator call if the class keeps pydantic's.

    Usage::  ``response = validate_as(AccessResponse, payload)``
    """
    direct = _DIRECT_VALIDATE.get(cls)
    if direct is None:
        direct = _DIRECT_VALIDATE[cls] = keeps_pydantic_validate(cls)
    if direct:
        return cls.__pydantic_validator__.validate_python(data, **kwargs)  # type: ignore[no-any-return]
    return cls.model_validate(data, **kwargs)


# class -> whether it keeps pydantic's model_validate (classes are long-lived; a weak map is not needed)
_DIRECT_VALIDATE: dict[type, bool] = {}


class OpenModuleRootModel(RootModel[Any]):
    """Base for models whose JSON is a single value (a list, a string, ...); ``json_bytes()`` emits it."""

    model_config = ConfigDict(validate_assignment=True, validate_default=True, coerce_numbers_to_str=True)

    def dict(self, **kwargs: Any) -> Any:
        """pydantic-v1 style dump with the wire defaults (``model_dump()`` keeps pydantic's)."""
        kwargs.setdefault("by_alias", True)
        kwargs.setdefault("exclude_none", True)
        return self.model_dump(**kwargs)

    @classmethod
    def parse_obj(cls, obj: object) -> Self:
        """pydantic-v1 style alias of ``model_validate()``, kept for existing services."""
        return cls.model_validate(obj)

    def json_bytes(self) -> bytes:
        return encode_json(self.dict())


class EmptyModel(OpenModuleModel):
    """A model without fields (``{}`` on the wire)."""


def _default_name() -> str:
    try:
        return str(settings.NAME)
    except SettingsModuleNotFound:
        # Scripts and tools without a settings module still get the environment's NAME.
        return str(GlobalSettings.NAME)


class ZMQMessage(OpenModuleModel):
    """Base of every message published on the bus.

    Usage::

        msg = ZMQMessage(type="demo")                 # name = settings.NAME, timestamp = now (UTC)
        publisher.publish(msg, "topic")

    ``timestamp`` is sent as epoch float seconds; ``baggage``/``sentry-trace`` are accepted and omitted
    when ``None``.
    """

    timestamp: Timestamp = Field(default_factory=utcnow)
    name: str = Field(default_factory=_default_name)
    type: str
    baggage: str | None = None
    sentry_trace: str | None = Field(default=None, alias="sentry-trace")

    @field_validator("name", mode="before")
    @classmethod
    def _name_default(cls, value: Any) -> Any:
        return _default_name() if value is None else value

    def publish_on_topic(self, pub_socket: zmq.Socket[Any], topic: str) -> None:
        """Send this message as the two frames ``[topic, json]`` on a PUB socket (not thread-safe)."""
        assert isinstance(topic, str), "topic must be a str"
        pub_socket.send_multipart([topic.encode("utf-8"), self.json_bytes()])


class Direction(StrEnum):
    """Direction of a gate."""

    UNKNOWN = ""
    IN = "in"
    OUT = "out"


class Gateway(OpenModuleModel):
    """A gate and its direction; ``str(gateway)`` is ``"<gate>/<direction>"`` (e.g. ``gate_1/in``)."""

    gate: str = ""
    direction: Direction = Direction.UNKNOWN

    def __str__(self) -> str:
        return f"{self.gate}/{self.direction.value}"


_RATE_TYPES = {"rate_change", "rate_validation", "partial_rate_change"}
# The reference lost "time_validation" and "payment" to a missing comma; both are amounts.
_AMOUNT_TYPES = {"static_cost", "pending_static_cost", "amount_validation", "time_validation", "payment"}


class CostEntryData(OpenModuleModel):
    """A cost entry; ``value`` is coerced to ``str`` for rate types and to ``int`` for amount types."""

    entry_type: str
    value: int | str | None = None
    group: str | None = None
    account_id: str
    source: str | None = None
    source_id: str | None = None
    idempotency_key: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _coerce_value(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("value") is not None:
            entry_type = data.get("entry_type")
            if entry_type in _RATE_TYPES:
                data = {**data, "value": str(data["value"])}
            elif entry_type in _AMOUNT_TYPES:
                data = {**data, "value": int(data["value"])}
        return data
