"""openmodule.sentry: error reporting of openmodule services through the message bus (sentry-sdk 2).

Usage::

    from openmodule.sentry import init_sentry, deinit_sentry, should_activate_sentry

    if should_activate_sentry(settings):
        init_sentry(settings, publish=core().publish, extras={"gate": "gate_1"})

By default no DSN is used: events go as ``SentryEvent`` messages on topic ``sentry`` to the local forwarder
service. Every event, transaction, breadcrumb and log passes :func:`scrub_event` / :func:`scrub_transaction`
/ :func:`scrub_breadcrumb` / :func:`scrub_log`, which replace personal data (licence plates, medium ids,
vehicle ids, ...) with ``"[Filtered]"``: under personal keys (any spelling), wherever a personal value found
in the objects behind the event appears, and in the shapes models print (``LPRMedium(id='...')``). Services
add their own field names with :func:`register_personal_data_keys` and types with
:func:`register_personal_data_type`.

``init_openmodule`` calls this itself (``sentry=None``: only outside DEBUG and TESTING).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from openmodule.config import ServiceConfig, is_development
from openmodule.models.base import ZMQMessage
from openmodule.sentry._scrub import (
    FILTERED,
    PERSONAL_DATA_KEYS,
    PERSONAL_DATA_TYPES,
    PERSONAL_DATA_WORDS,
    is_personal_key,
    register_personal_data_keys,
    register_personal_data_type,
    scrub_breadcrumb,
    scrub_event,
    scrub_log,
    scrub_transaction,
)
from openmodule.sentry._scrub import chain as _chain

__all__ = [
    "FILTERED",
    "PERSONAL_DATA_KEYS",
    "PERSONAL_DATA_TYPES",
    "PERSONAL_DATA_WORDS",
    "SentryEvent",
    "ZeroMQTransport",
    "deinit_sentry",
    "init_sentry",
    "is_initialized",
    "is_personal_key",
    "register_personal_data_keys",
    "register_personal_data_type",
    "scrub_breadcrumb",
    "scrub_event",
    "scrub_log",
    "scrub_transaction",
    "sentry_environment",
    "should_activate_sentry",
    "TOPIC",
]

log = logging.getLogger("openmodule.sentry")

TOPIC = "sentry"


class SentryEvent(ZMQMessage):
    """A Sentry event on its way to the forwarder service (topic ``sentry``)."""

    type: str = "sentry"
    event: dict[str, Any]


class ZeroMQTransport(Transport):
    """Publishes every event of an envelope as a :class:`SentryEvent` on topic ``sentry``.

    ``publish`` is ``core().publish`` (thread-safe); sessions, client reports and attachments have no
    receiver on the bus and are dropped.
    """

    def __init__(self, publish: Callable[[Any, str], Any], name: str, options: dict[str, Any] | None = None):
        super().__init__(options)
        self._publish = publish
        self._name = name

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type not in ("event", "transaction"):
                continue
            event = item.payload.json
            if not isinstance(event, dict):
                continue
            try:
                self._publish(SentryEvent(name=self._name, event=event), TOPIC)
            except Exception:  # reporting must never break the service; the context may be gone
                log.debug("could not publish sentry event", exc_info=True)

    def flush(self, timeout: float, callback: Any | None = None) -> None:
        return None  # publishing is synchronous

    def kill(self) -> None:
        return None


def should_activate_sentry(config: ServiceConfig) -> bool:
    """Sentry is on in production: neither DEBUG nor TESTING."""
    return not is_development(config)


def sentry_environment(config: ServiceConfig) -> str:
    """``"staging"`` on devices of the test device server (DEVICE_HOST contains "test"), else ``"production"``."""
    device_host = getattr(config, "DEVICE_HOST", None)
    if device_host is None:
        device_host = os.environ.get("DEVICE_HOST", "")
    return "staging" if "test" in str(device_host) else "production"


_initialized = False
_SDK_OPTIONS = frozenset(sentry_sdk.consts.DEFAULT_OPTIONS)


def init_sentry(
    config: ServiceConfig,
    publish: Callable[[Any, str], Any] | None = None,
    extras: dict[str, Any] | None = None,
    *,
    dsn: str | None = None,
    transport: Transport | None = None,
    **kwargs: Any,
) -> None:
    """Initialize sentry-sdk for this service.

    Without ``dsn``, events are published on the bus through ``publish`` (required then); with ``dsn``
    (the 18.x mode) they go to that DSN directly. ``transport`` replaces both (tests capture events with
    it). ``config`` is the settings object or the core (its ``config`` and ``publish`` are used).
    Remaining keyword arguments go to ``sentry_sdk.init``.
    """
    global _initialized
    if publish is None and hasattr(config, "publish") and hasattr(config, "config"):
        publish = config.publish
    config = getattr(config, "config", config)
    name = getattr(config, "NAME", "unknown")
    server_name = getattr(config, "RESOURCE", "") or ""
    if not server_name:
        server_name = socket.gethostname()
        log.warning("RESOURCE is empty, reporting errors under the host name %s", server_name)
    if transport is None and dsn is None:
        if publish is None:
            raise ValueError("init_sentry needs publish (core().publish) or a dsn")
        transport = ZeroMQTransport(publish, name)
    options: dict[str, Any] = {
        "dsn": dsn,
        "release": str(getattr(config, "VERSION", "unknown")),
        "server_name": server_name,
        "environment": sentry_environment(config),
    }
    if transport is not None:
        options["transport"] = transport
    # The scrubbers run last, after any hook the service passes: nothing a hook adds leaves unscrubbed.
    scrubbers = {
        "before_send": scrub_event,
        "before_send_transaction": scrub_transaction,
        "before_breadcrumb": scrub_breadcrumb,
        "before_send_log": scrub_log,
    }
    for option, scrubber in scrubbers.items():
        if option not in _SDK_OPTIONS:  # before_send_log came with sentry-sdk 2.35
            continue
        options[option] = _chain(kwargs.pop(option, None), scrubber)
    options.update(kwargs)
    sentry_sdk.init(**options)
    scope = sentry_sdk.get_global_scope()
    scope.set_extra("name", name)
    scope.set_tag("name", name)
    gate = getattr(config, "GATE", None)
    if gate:
        scope.set_extra("gate", gate)
        scope.set_tag("gate", gate)
    for key, value in (extras or {}).items():
        scope.set_extra(key, value)
    _initialized = True


def deinit_sentry() -> None:
    """Switch error reporting off again (closes the client, forgets the service's extras and tags)."""
    global _initialized
    client = sentry_sdk.get_client()
    if client.is_active():
        client.close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_global_scope().clear()
    sentry_sdk.get_isolation_scope().clear()
    _initialized = False


def is_initialized() -> bool:
    """True between :func:`init_sentry` and :func:`deinit_sentry`."""
    return _initialized
