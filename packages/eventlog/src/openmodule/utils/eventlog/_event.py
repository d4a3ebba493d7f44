from __future__ import annotations

import string
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from openmodule.messaging import running_core
from openmodule.models.base import Datetime, OpenModuleModel, ZMQMessage, utcnow

EVENTLOG_TOPIC = "eventlog"


class AnonymizationType(StrEnum):
    """How the event log service anonymizes a message argument once the privacy period is over."""

    lpr = "lpr"
    medium = "medium"
    default = "default"
    no = "no"


class PlateFormatData(OpenModuleModel):
    """A licence plate argument; ``country`` is ``"-"`` when unknown."""

    plate: str
    country: str = "-"


# format type -> the Python types its value must have (other format types accept any JSON value)
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "lpr": (PlateFormatData,),
    "medium": (str,),
    "string": (str,),
    "gate": (str,),
    "price": (int,),
}


class MessageKwarg(OpenModuleModel):
    """One argument of an event message: its value, how it is formatted and how it is anonymized.

    Build it with a factory, which picks both::

        MessageKwarg.lpr("G ARIVO 1", "A")   # format lpr, anonymized as a plate
        MessageKwarg.medium("QR1")           # format medium, anonymized as a medium
        MessageKwarg.string("Jane Doe")      # format string, default anonymization
        MessageKwarg.price(150)              # cents; price, rate, cost_group, gate are never anonymized
    """

    value: Any
    anonymization_type: AnonymizationType = AnonymizationType.default
    format_type: str

    @model_validator(mode="before")
    @classmethod
    def _plate_value(cls, data: Any) -> Any:
        # On the wire a plate is a plain object: read it back as PlateFormatData.
        if (
            isinstance(data, dict)
            and data.get("format_type") == "lpr"
            and isinstance(data.get("value"), dict)
        ):
            data = {**data, "value": PlateFormatData.model_validate(data["value"])}
        return data

    @model_validator(mode="after")
    def _check_value_type(self) -> MessageKwarg:
        expected = _VALUE_TYPES.get(self.format_type)
        if expected is not None and (
            not isinstance(self.value, expected) or (int in expected and isinstance(self.value, bool))
        ):
            names = " or ".join(t.__name__ for t in expected)
            raise ValueError(
                f"a {self.format_type!r} message argument needs a {names} value, "
                f"got {type(self.value).__name__} {self.value!r}"
            )
        return self

    @staticmethod
    def lpr(plate: str, country: str | None = None) -> MessageKwarg:
        """A licence plate (``country`` ``None``: ``"-"``)."""
        data = PlateFormatData(plate=plate, country="-" if country is None else country)
        return MessageKwarg(value=data, anonymization_type=AnonymizationType.lpr, format_type="lpr")

    @staticmethod
    def medium(value: str) -> MessageKwarg:
        """A medium id (QR code, NFC card, PIN)."""
        return MessageKwarg(value=value, anonymization_type=AnonymizationType.medium, format_type="medium")

    @staticmethod
    def string(value: str) -> MessageKwarg:
        """Free text that may be personal (a name): anonymized by default."""
        return MessageKwarg(value=value, anonymization_type=AnonymizationType.default, format_type="string")

    @staticmethod
    def price(cents: int) -> MessageKwarg:
        """An amount in cents, formatted in the site's currency."""
        return MessageKwarg(value=cents, anonymization_type=AnonymizationType.no, format_type="price")

    @staticmethod
    def rate(rate_id: str) -> MessageKwarg:
        """A rate, formatted with its name."""
        return MessageKwarg(value=rate_id, anonymization_type=AnonymizationType.no, format_type="rate")

    @staticmethod
    def cost_group(name: str) -> MessageKwarg:
        """A cost group."""
        return MessageKwarg(value=name, anonymization_type=AnonymizationType.no, format_type="cost_group")

    @staticmethod
    def gate(technical_name: str) -> MessageKwarg:
        """A gate, formatted with its display name."""
        return MessageKwarg(value=technical_name, anonymization_type=AnonymizationType.no, format_type="gate")


class EventInfo(OpenModuleModel):
    """What an event is about; ``type`` is namespaced with an underscore (``gate_opened``)."""

    type: str
    timestamp: Datetime
    gate: str | None = None
    license_plate: str | None = None
    license_plate_country: str | None = None
    session_id: str | None = None
    related_session_id: str | None = None
    vehicle_id: str | None = None
    price: int | None = None  # cents

    @field_validator("type")
    @classmethod
    def _namespaced(cls, value: str) -> str:
        if "_" not in value:
            raise ValueError(f"an event type must contain '_' (like 'gate_opened'), got {value!r}")
        return value

    @classmethod
    def create(
        cls,
        type: str,
        timestamp: datetime | None = None,
        gate: str | None = None,
        license_plate: str | None = None,
        license_plate_country: str | None = None,
        session_id: str | None = None,
        related_session_id: str | None = None,
        vehicle_id: str | None = None,
        price: int | None = None,
    ) -> EventInfo:
        """An EventInfo; ``timestamp`` ``None`` means now.

        Usage: ``EventInfo.create("gate_opened", gate="gate_1")``
        """
        return cls(
            type=type,
            timestamp=utcnow() if timestamp is None else timestamp,
            gate=gate,
            license_plate=license_plate,
            license_plate_country=license_plate_country,
            session_id=session_id,
            related_session_id=related_session_id,
            vehicle_id=vehicle_id,
            price=price,
        )


class Event(OpenModuleModel):
    """An event: the format string ``message``, its arguments and the infos."""

    message: str
    message_kwargs: dict[str, MessageKwarg] = Field(default_factory=dict)
    infos: EventInfo


def _placeholders(message: str) -> set[str]:
    try:
        return {
            name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(message) if name
        }
    except ValueError as exc:
        raise ValueError(f"event message {message!r} is not a valid format string: {exc}") from None


class EventlogMessage(ZMQMessage):
    """The ``create_event`` message on topic ``eventlog``.

    Usage: ``EventlogMessage.create(EventInfo.create("gate_opened"), "Gate opened").send()``
    """

    type: str = "create_event"
    event: Event

    @classmethod
    def create(cls, infos: EventInfo, message: str, /, **message_kwargs: MessageKwarg) -> EventlogMessage:
        """Check that every ``{name}`` of ``message`` has an argument and build the message."""
        for name, kwarg in message_kwargs.items():
            if not isinstance(kwarg, MessageKwarg):
                raise TypeError(
                    f"event argument {name!r} must be a MessageKwarg (e.g. MessageKwarg.string(...)), "
                    f"not {type(kwarg).__name__}"
                )
        missing = _placeholders(message) - set(message_kwargs)
        if missing:
            raise ValueError(
                f"event message {message!r} uses {sorted(missing)} without a MessageKwarg for it"
            )
        return cls(event=Event(message=message, message_kwargs=message_kwargs, infos=infos))

    def send(self) -> None:
        """Publish on ``eventlog`` through the running core."""
        running_core("sending an event").publish(self, EVENTLOG_TOPIC)


def send_event(infos: EventInfo, message: str, /, **message_kwargs: MessageKwarg) -> None:
    """Publish an event on ``eventlog`` through the running core.

    Usage::

        send_event(EventInfo.create("gate_opened", gate="gate_1"), "Gate {gate} opened for {lpr}",
                   gate=MessageKwarg.gate("gate_1"), lpr=MessageKwarg.lpr("G ARIVO 1", "A"))

    Every ``{name}`` in ``message`` needs a :class:`MessageKwarg` of that name (``ValueError`` otherwise).
    """
    EventlogMessage.create(infos, message, **message_kwargs).send()
