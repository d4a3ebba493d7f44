"""openmodule.utils.privacy: one-line registration of anonymization handlers.

A service holding personal data registers its delete function; the helper parses ``privacy`` messages, calls
it, logs and counts how many records it removed, and never lets an error stop the message loop. The DSGVO
service registers the ``privacy``/``anonymize`` RPC, which maps session ids to vehicle ids and re-publishes
``AnonymizeMessage``s.

Usage::

    from openmodule.utils.privacy import register_anonymize_handler

    def anonymize(message: AnonymizeMessage) -> int:
        '''Deletes the images of the vehicles.'''
        return delete_images(message.vehicle_ids)      # number of records removed

    anonymizer = register_anonymize_handler(core.messages, anonymize)
    anonymizer.records_removed                          # running total
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from openmodule.models.privacy import AnonymizeMessage, AnonymizeRequest, AnonymizeResponse

if TYPE_CHECKING:
    from openmodule.dispatcher import MessageDispatcher

__all__ = [
    "PRIVACY_CHANNEL",
    "PRIVACY_TOPIC",
    "ANONYMIZE_TYPE",
    "AnonymizeHandler",
    "register_anonymize_handler",
    "register_anonymize_rpc",
]

PRIVACY_TOPIC = "privacy"
PRIVACY_CHANNEL = "privacy"
ANONYMIZE_TYPE = "anonymize"

log = logging.getLogger("openmodule.utils.privacy")

# What publishes a message on a topic (``core.publish``).
_Publish = Callable[[AnonymizeMessage, str], object]


class AnonymizeHandler:
    """A registered anonymization handler with its counters; see ``register_anonymize_handler``.

    ``messages`` handled, ``records_removed`` (sum of what the handler returned), ``errors`` (handler raised),
    ``last_removed`` (the count of the latest message). ``unregister()`` removes it from the dispatcher.
    """

    def __init__(
        self, dispatcher: MessageDispatcher, handler: Callable[[AnonymizeMessage], int | None], topic: str
    ) -> None:
        self.dispatcher = dispatcher
        self.handler = handler
        self.topic = topic
        self.messages = 0
        self.records_removed = 0
        self.last_removed: int | None = None
        self.errors = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._last_error_log = 0.0
        self._handle: Any = None

    def __call__(self, message: AnonymizeMessage) -> None:
        try:
            removed = self.handler(message)
        except Exception:
            with self._changed:
                self.errors += 1
                self.messages += 1
                self._changed.notify_all()
            # Rate-limited: a broken handler must not flood the log, and must never stop the loop.
            now = time.monotonic()
            if now - self._last_error_log >= 10.0:
                self._last_error_log = now
                log.exception(
                    "anonymization failed for session %s, vehicles %s (%d errors so far)",
                    message.session_id,
                    message.vehicle_ids,
                    self.errors,
                )
            return
        count = removed if isinstance(removed, int) and not isinstance(removed, bool) else 0
        with self._changed:
            self.messages += 1
            self.records_removed += count
            self.last_removed = count
            self._changed.notify_all()
        log.info(
            "anonymized %d record(s) for session %s, %d vehicle id(s)",
            count,
            message.session_id,
            len(message.vehicle_ids),
        )

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` messages were handled (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.messages < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def unregister(self) -> None:
        """Stop receiving ``privacy`` messages."""
        if self._handle is not None:
            self.dispatcher.unregister_handler(self._handle)
            self._handle = None

    def __repr__(self) -> str:
        return (
            f"<AnonymizeHandler {getattr(self.handler, '__name__', self.handler)!s} messages={self.messages} "
            f"records_removed={self.records_removed} errors={self.errors}>"
        )


def register_anonymize_handler(
    dispatcher: MessageDispatcher,
    handler: Callable[[AnonymizeMessage], int | None],
    *,
    topic: str = PRIVACY_TOPIC,
    register_schema: bool = True,
) -> AnonymizeHandler:
    """Register ``handler`` for ``AnonymizeMessage``s on topic ``privacy`` in one line.

    ``handler(message)`` deletes the data and returns how many records it removed (``None`` counts as 0).
    Errors are logged (rate-limited) and counted, never raised into the message loop.

    Usage: ``anonymizer = register_anonymize_handler(core.messages, delete_vehicle_data)``
    """
    wrapper = AnonymizeHandler(dispatcher, handler, topic)

    @functools.wraps(handler)
    def on_message(message: AnonymizeMessage) -> None:
        wrapper(message)

    wrapper._handle = dispatcher.register_handler(
        topic, AnonymizeMessage, on_message, register_schema=register_schema
    )
    return wrapper


def register_anonymize_rpc(
    rpc_server: Any,
    vehicle_ids_for_session: Callable[[str], Iterable[str]],
    publish: _Publish,
    *,
    register_schema: bool = True,
) -> Callable[[AnonymizeRequest], AnonymizeResponse]:
    """Serve RPC ``privacy``/``anonymize`` (the DSGVO service's side): publish one ``AnonymizeMessage`` per
    session with the vehicle ids ``vehicle_ids_for_session(session_id)`` returns.

    On bridged installations only the master registers it (``if not is_bridged_slave()``).

    Usage: ``register_anonymize_rpc(rpc_server, links.vehicle_ids, core.publish)``
    """

    def anonymize(request: AnonymizeRequest) -> AnonymizeResponse:
        """Anonymizes sessions: publishes an AnonymizeMessage with the linked vehicle ids of each session."""
        for session_id in request.session_ids:
            vehicle_ids = list(vehicle_ids_for_session(session_id))
            publish(AnonymizeMessage(session_id=session_id, vehicle_ids=vehicle_ids), PRIVACY_TOPIC)
        return AnonymizeResponse()

    rpc_server.register_handler(
        PRIVACY_CHANNEL,
        ANONYMIZE_TYPE,
        AnonymizeRequest,
        AnonymizeResponse,
        anonymize,
        register_schema=register_schema,
    )
    return anonymize
