from __future__ import annotations

import logging
import warnings
from typing import Any

from openmodule.config import settings
from openmodule.dispatcher import MessageDispatcher
from openmodule.models.access_service import (
    AccessCheckResponse,
    BaseSessionMessage,
    SessionDeleteMessage,
    SessionExitWithoutEntryMessage,
    SessionFinishMessage,
    SessionIncompleteMessage,
    SessionStartMessage,
)

log = logging.getLogger("openmodule.utils.access_service")

ACCESS_CHANNEL = "access_service"
AUTH_TYPE = "auth"
SESSION_TOPIC = "session"
# how a failing session handler is reported (the reference's words)
_ERROR_TEXT = {
    "check_in_session": "Error in session check in",
    "check_out_session": "Error in session check out",
    "session_error_message": "Error in session error message",
}


class AccessService:
    """An access service: answers ``access_service``/``auth`` requests addressed to its ``NAME``.

    Set ``auth_request_request_model`` (e.g. ``AccessCheckRequest``) and implement
    :meth:`rpc_check_access`. ``implements_session_handling=True`` (deprecated, the README's old Backend form)
    also handles ``session`` messages like :class:`AccessServiceWithSessions`; the handlers go on
    ``dispatcher`` (``core.messages``), given here or later to :meth:`register_session_handlers`.

    Usage: ``service = MyAccessService(); service.register_rpcs(rpc_server)``
    """

    auth_request_request_model: type[Any] | None = None

    def __init__(
        self, implements_session_handling: bool | None = None, *, dispatcher: MessageDispatcher | None = None
    ) -> None:
        if implements_session_handling is not None:
            warnings.warn(
                "AccessService(implements_session_handling=...) is deprecated: inherit AccessServiceWithSessions",
                DeprecationWarning,
                stacklevel=2,
            )
        self.implements_session_handling = bool(implements_session_handling)
        self._session_handles: list[tuple[Any, Any]] = []
        if self.implements_session_handling and dispatcher is not None:
            self.register_session_handlers(dispatcher)

    # -- RPC ----------------------------------------------------------------------------------------

    def _access_service_filter(
        self, request: Any, message: Any = None, handler: Any = None, **_: Any
    ) -> bool:
        # several access services share the channel: answer only requests naming this one
        return bool(getattr(request, "name", None) == settings.NAME)

    def register_rpcs(self, rpc_server: Any) -> None:
        """Register the ``access_service``/``auth`` RPC (filtered by ``name == NAME``) on ``rpc_server``."""
        assert self.auth_request_request_model is not None, (
            f"{type(self).__name__}.auth_request_request_model must be set (e.g. AccessCheckRequest)"
        )
        rpc_server.add_filter(self._access_service_filter, ACCESS_CHANNEL, AUTH_TYPE)
        rpc_server.register_handler(
            ACCESS_CHANNEL,
            AUTH_TYPE,
            self.auth_request_request_model,
            AccessCheckResponse,
            self.rpc_check_access,
        )
        if self.implements_session_handling and not self._session_handles:
            log.warning(
                "%s handles sessions but no dispatcher was given: call register_session_handlers"
                "(core.messages)",
                type(self).__name__,
            )

    def rpc_check_access(self, request: Any, message: Any = None) -> AccessCheckResponse:
        """Check the vehicle of ``request`` (the RPC handler; ``message`` is the RPC envelope)."""
        raise NotImplementedError(f"{type(self).__name__} must implement rpc_check_access")

    # -- sessions -----------------------------------------------------------------------------------

    def register_session_handlers(self, dispatcher: MessageDispatcher) -> None:
        """Handle ``session`` messages (start, finish, delete, exit_without_entry, incomplete) from
        ``dispatcher`` (``core.messages``)."""
        if self._session_handles:
            return
        for message_class, method in (
            (SessionStartMessage, self.check_in_session),
            (SessionFinishMessage, self.check_out_session),
            (SessionDeleteMessage, self.session_error_message),
            (SessionExitWithoutEntryMessage, self.session_error_message),
            (SessionIncompleteMessage, self.session_error_message),
        ):
            handle = dispatcher.register_handler(SESSION_TOPIC, message_class, self._guarded(method))
            self._session_handles.append((dispatcher, handle))

    def unregister_session_handlers(self) -> None:
        for dispatcher, handle in self._session_handles:
            dispatcher.unregister_handler(handle)
        self._session_handles = []

    def _guarded(self, method: Any) -> Any:
        def handle(message: BaseSessionMessage) -> None:
            try:
                method(message)
            except Exception:
                data = message.dict()
                data.pop("name", None)
                name = getattr(method, "__name__", str(method))
                log.exception(
                    "%s (%s failed) for session message %s", _ERROR_TEXT.get(name, "Error"), name, data
                )

        handle.__doc__ = method.__doc__ or "session message handler"
        return handle

    def check_in_session(self, message: SessionStartMessage) -> None:
        """A session started."""
        raise NotImplementedError(f"{type(self).__name__} must implement check_in_session")

    def check_out_session(self, message: SessionFinishMessage) -> None:
        """A session finished."""
        raise NotImplementedError(f"{type(self).__name__} must implement check_out_session")

    def session_error_message(
        self, message: SessionDeleteMessage | SessionIncompleteMessage | SessionExitWithoutEntryMessage
    ) -> None:
        """A session was deleted, is incomplete, or an exit had no entry."""
        raise NotImplementedError(f"{type(self).__name__} must implement session_error_message")


class AccessServiceWithSessions(AccessService):
    """An access service that also handles ``session`` messages from ``dispatcher`` (``core.messages``).

    Usage: ``MyService(core.messages).register_rpcs(rpc_server)``
    """

    def __init__(self, dispatcher: MessageDispatcher) -> None:
        super().__init__()
        self.implements_session_handling = True
        self.register_session_handlers(dispatcher)


class Backend(AccessService):
    """Deprecated name of the README's "Backend": an :class:`AccessService` that handles sessions when
    ``implements_session_handling`` (default True). Warns ``DeprecationWarning``.

    Usage: ``class MyBackend(Backend): ...; MyBackend(dispatcher=core.messages).register_rpcs(rpc_server)``
    """

    def __init__(
        self, implements_session_handling: bool = True, *, dispatcher: MessageDispatcher | None = None
    ) -> None:
        warnings.warn(
            "Backend is deprecated: inherit AccessService or AccessServiceWithSessions",
            DeprecationWarning,
            stacklevel=2,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            super().__init__(implements_session_handling, dispatcher=dispatcher)
