"""The site's event log: ``send_event`` publishes an event on the topic ``eventlog``.

Usage::

    from openmodule.utils.eventlog import EventInfo, MessageKwarg, send_event

    send_event(EventInfo.create("gate_opened", gate="gate_1"), "Gate {gate} opened for {lpr}",
               gate=MessageKwarg.gate("gate_1"), lpr=MessageKwarg.lpr("G ARIVO 1", "A"))
"""

from __future__ import annotations

from openmodule.utils.eventlog._event import (
    EVENTLOG_TOPIC,
    AnonymizationType,
    Event,
    EventInfo,
    EventlogMessage,
    MessageKwarg,
    PlateFormatData,
    send_event,
)

__all__ = [
    "EVENTLOG_TOPIC",
    "AnonymizationType",
    "Event",
    "EventInfo",
    "EventlogMessage",
    "MessageKwarg",
    "PlateFormatData",
    "send_event",
]
