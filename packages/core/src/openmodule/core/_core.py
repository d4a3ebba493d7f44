"""OpenModuleCore and the init_openmodule / core / shutdown_openmodule life cycle."""

from __future__ import annotations

import logging
import os
import random
import signal
import string
import sys
import threading
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

import zmq
from pydantic import BaseModel

from openmodule.alert import AlertHandler
from openmodule.config import ServiceConfig, is_debug, is_development, is_testing, validate_config_module
from openmodule.connection_status import ConnectionStatusListener
from openmodule.core._dsgvo import copy_dsgvo_config
from openmodule.health import Health, HealthHandlerType
from openmodule.messaging import PING_PREFIX, MessageLoop, Publisher, set_running_core
from openmodule.models.base import ZMQMessage
from openmodule.rpc import RPCClient
from openmodule.threading import get_thread_wrapper
from openmodule.utils.databox import get_default_rpc_client, set_default_rpc_client

if TYPE_CHECKING:
    from openmodule.database.database import Database

log = logging.getLogger("openmodule.core")

#: How long init_openmodule waits for the broker (each of the two sockets), as in the reference.
BROKER_TIMEOUT = 100.0
#: Outside TESTING/DEBUG a hanging shutdown ends the process with this code after LAST_WILL_TIMEOUT seconds.
LAST_WILL_EXIT_CODE = 99
LAST_WILL_TIMEOUT = 10.0


class OpenModuleCore:
    """The runtime of one service: a PUB socket, a user and an internal message loop, RPC client, health,
    alerts, connection status and (optionally) the database.

    Services get it from ``init_openmodule`` / ``core()`` and never construct it.

    Usage::

        core = init_openmodule(settings)
        core.messages.register_handler("io", IoMessage, on_io)
        core.publish(MyMessage(...), "topic")
        core.rpc_client.rpc("backend", "auth", request, AuthResponse)

    User handlers run on ``messages`` (its own SUB socket and thread); health pings, RPC replies and
    connection status run on a separate internal loop, so a slow user handler never delays a pong or an
    RPC reply.
    """

    def __init__(
        self, context: zmq.Context[Any], config: ServiceConfig, messages_executor: Executor | None = None
    ) -> None:
        self.context = context
        self.config = config
        self.log = log
        self.sentry_was_initialized = False
        self.database: Database | None = None
        self._messages_executor = messages_executor
        self._shutdown_done = False
        self.publisher = Publisher(context, config, linger=1000)
        try:
            self._loop = MessageLoop(context, config, name="messages", executor=messages_executor)
            try:
                self._loop_internal = MessageLoop(context, config, name="messages-internal")
            except BaseException:
                self._loop.stop(0)
                raise
        except BaseException:
            # Nothing half-built may keep a socket open: it would block the context's termination.
            self.publisher.close(0)
            raise
        # A thread that dies of an unexpected exception ends the process (exit code 10), see openmodule.threading.
        self._loop.run = get_thread_wrapper(self._loop.run)  # type: ignore[method-assign]
        self._loop_internal.run = get_thread_wrapper(self._loop_internal.run)  # type: ignore[method-assign]
        self.messages = self._loop.dispatcher
        self._messages_internal = self._loop_internal.dispatcher
        self.rpc_client = RPCClient(self._messages_internal, self.publish, _warn=False)
        # upload() lives below the core: hand it the client so it can trigger the databox service.
        set_default_rpc_client(self.rpc_client)
        self.health = Health(self._messages_internal, self.publish, config=config)
        self.alerts = AlertHandler(self.publish, config=config)
        self.connection_listener = ConnectionStatusListener(
            self._messages_internal, self.rpc_client, config=config, rpc_forbidden=self._on_internal_thread
        )
        # Tests replace core.rpc_client / core.connection_listener with mocks: shutdown() stops the parts
        # the core built, whatever the attributes hold by then.
        self._own_rpc_client = self.rpc_client
        self._own_connection_listener = self.connection_listener

    # -- sockets of the reference, for code that reaches for them -----------------------------------
    @property
    def sub_socket(self) -> zmq.Socket[Any]:
        return self._loop.socket

    @property
    def sub_socket_internal(self) -> zmq.Socket[Any]:
        return self._loop_internal.socket

    def _on_internal_thread(self) -> bool:
        thread = getattr(self._loop_internal, "_thread", None)
        return thread is not None and thread is threading.current_thread()

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start both message loops (called by ``init_openmodule``)."""
        self._loop.start()
        self._loop_internal.start()

    def threads(self) -> list[threading.Thread]:
        """The threads this core runs (both message loops)."""
        return [
            t
            for t in (getattr(self._loop, "_thread", None), getattr(self._loop_internal, "_thread", None))
            if t
        ]

    def publish(self, message: BaseModel | dict[str, Any], topic: str) -> None:
        """Send ``message`` (a model or dict) on ``topic`` through the core's single PUB socket; thread-safe."""
        assert isinstance(topic, str), f"topic must be a str, not {type(topic).__name__}"
        self.publisher.publish(message, topic)

    def wait_for_broker(self, timeout: float = BROKER_TIMEOUT) -> None:
        """Block until pings published by this core come back through both SUB sockets.

        Pings are repeated with a growing interval (2 ms up to 100 ms): the first ones are usually lost
        while the subscriptions travel to the broker, and a fixed 100 ms step would make every start slow.
        Raises ``TimeoutError`` when the broker does not answer within ``timeout`` seconds.
        """
        base = PING_PREFIX + "_" + "".join(random.choices(string.ascii_letters, k=10))
        woken = threading.Event()
        pending: dict[str, Any] = {}
        handles: list[tuple[Any, Any]] = []

        def arrived(topic: str) -> Any:
            def handler(_: ZMQMessage) -> None:
                pending.pop(topic, None)
                woken.set()

            return handler

        try:
            for suffix, dispatcher in (("_m", self.messages), ("_i", self._messages_internal)):
                topic = base + suffix
                pending[topic] = dispatcher
                handles.append(
                    (
                        dispatcher,
                        dispatcher.register_handler(
                            topic, ZMQMessage, arrived(topic), match_type=False, register_schema=False
                        ),
                    )
                )
            deadline = time.monotonic() + timeout
            interval = 0.002
            while pending:
                for topic in list(pending):
                    self.publish(ZMQMessage(type="connection-check"), topic)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"could not connect to the message broker in time ({timeout:g} s): is it running at "
                        f"{getattr(self.config, 'BROKER_SUB', '?')} / {getattr(self.config, 'BROKER_PUB', '?')}?"
                    )
                woken.wait(min(interval, remaining))
                woken.clear()
                interval = min(interval * 2, 0.1)
        finally:
            for dispatcher, handle in handles:
                dispatcher.unregister_handler(handle)

    def init_database(self, **kwargs: Any) -> Database:
        """Open the service's database (``DATABASE_FOLDER``/``NAME``); alembic scripts from ``./database``,
        in TESTING from ``../src/database``."""
        from openmodule.database.database import Database  # optional part: imported only when used

        if is_testing(self.config):
            kwargs.setdefault("alembic_path", "../src/database")
        # Only services with a database need DATABASE_FOLDER: it is not part of ServiceConfig.
        folder = getattr(self.config, "DATABASE_FOLDER")  # noqa: B009
        self.database = Database(folder, self.config.NAME, **kwargs)
        return self.database

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the internal, then the user loop (running handlers finish), close the database, the PUB
        socket and (if the core created it) the ZMQ context. Idempotent."""
        if self._shutdown_done:
            return
        self._shutdown_done = True
        # Every step runs even if an earlier one fails: a socket left open would keep the ZMQ context
        # (and with it the process, or the test broker) from terminating.
        steps: list[tuple[str, Any]] = [
            ("connection status listener", self._own_connection_listener.shutdown),
            ("RPC client", self._own_rpc_client.shutdown),
            ("internal message loop", lambda: self._loop_internal.stop(timeout)),
            ("message loop", lambda: self._loop.stop(timeout)),
        ]
        executor = self._messages_executor
        if executor is not None:
            steps.append(("handler executor", lambda: executor.shutdown(wait=True)))
        if self.database is not None:
            steps.append(("database", self.database.shutdown))
        steps.append(("publisher", self.publisher.close))
        for what, step in steps:
            try:
                step()
            except Exception:
                log.exception("error while shutting down the %s", what)
        if get_default_rpc_client() is self._own_rpc_client:
            set_default_rpc_client(None)


_core: OpenModuleCore | None = None
_core_lock = threading.Lock()
_owns_context = False
_previous_sigterm: Any = None
_sigterm_installed = False


def core() -> OpenModuleCore:
    """The running core, typed for use without a ``None`` check after ``init_openmodule``.

    Usage: ``core().publish(message, "topic")``

    When no core runs (before ``init_openmodule``, after ``shutdown_openmodule``) it returns ``None``, as the
    reference's ``core()`` did: deployed services ask ``if core() is not None``. The type says what holds
    once a service has started; code that asks whether a core runs gets an honest ``OpenModuleCore | None``
    from ``core_or_none()``.
    """
    # The runtime None is kept for compatibility; the type follows the normal use after init_openmodule.
    return cast(OpenModuleCore, _core)


def core_or_none() -> OpenModuleCore | None:
    """The running core, or ``None`` when none runs: the safe way to ask whether one runs.

    Usage: ``if core_or_none() is not None: shutdown_openmodule()``
    """
    return _core


def _sigterm_handler(signum: int, frame: FrameType | None) -> None:
    # Services already shut down cleanly on Ctrl-C; SIGTERM (docker stop) takes the same path.
    raise KeyboardInterrupt("SIGTERM")


def init_openmodule(
    config: ServiceConfig,
    sentry: bool | None = None,
    logging: bool = True,
    dsgvo: bool = True,
    health_handler: HealthHandlerType | None = None,
    context: zmq.Context[Any] | None = None,
    database: bool = False,
    catch_sigterm: bool = True,
    dispatcher_max_threads: int = 1,
    wait_for_broker: bool = True,
) -> OpenModuleCore:
    """Start the openmodule core of this service and return it.

    Usage::

        from openmodule.config import settings
        from openmodule.core import init_openmodule, shutdown_openmodule

        core = init_openmodule(settings)
        try:
            run_service(core)
        except KeyboardInterrupt:        # Ctrl-C and SIGTERM
            pass
        finally:
            shutdown_openmodule()

    ``sentry=None`` reports errors only outside DEBUG and TESTING; ``dispatcher_max_threads > 1`` runs user
    handlers in a thread pool (no ordering); ``database=True`` opens the service database.
    """
    validate_config_module(config)
    instance = _register_new_core(config, context, dispatcher_max_threads)
    try:
        _start(instance, config, health_handler, catch_sigterm=catch_sigterm, init_logs=logging)
        if wait_for_broker:
            instance.wait_for_broker(BROKER_TIMEOUT)
        _activate_sentry(instance, config, sentry)
        if dsgvo:
            copy_dsgvo_config()
        if database:
            instance.init_database()
    except BaseException:
        _teardown()
        raise
    log.info("core startup complete")
    return instance


def _register_new_core(
    config: ServiceConfig, context: zmq.Context[Any] | None, dispatcher_max_threads: int
) -> OpenModuleCore:
    """Build the core (refusing a second one) and register it as the running core of the process."""
    global _core, _owns_context
    with _core_lock:
        if _core is not None:
            raise AssertionError(
                "openmodule core already running: call shutdown_openmodule() before init_openmodule() again"
            )
        owns_context = context is None
        if context is None:
            context = zmq.Context()
        executor = None
        if dispatcher_max_threads > 1:
            executor = ThreadPoolExecutor(
                max_workers=dispatcher_max_threads, thread_name_prefix="openmodule-handler"
            )
        try:
            instance = OpenModuleCore(context, config, messages_executor=executor)
        except BaseException:
            if owns_context:
                context.term()
            raise
        _core, _owns_context = instance, owns_context
        set_running_core(instance)
    return instance


def _start(
    instance: OpenModuleCore,
    config: ServiceConfig,
    health_handler: HealthHandlerType | None,
    *,
    catch_sigterm: bool,
    init_logs: bool,
) -> None:
    """Start the loops, with the health handler and SIGTERM in place first; then logging and the banner."""
    global _previous_sigterm, _sigterm_installed
    # Before the loops start: once the service answers health pings, SIGTERM is already handled and
    # the pong already comes from the service's own health handler.
    if health_handler is not None:
        instance.health.health_handler = health_handler
    if catch_sigterm and threading.current_thread() is threading.main_thread():
        _previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_handler)
        _sigterm_installed = True
    instance.start()
    if init_logs:
        from openmodule.logging import init_logging

        init_logging(config)
    log.info("Service: %s (version:%s)", config.NAME, config.VERSION)
    if is_debug(config):
        log.warning(
            "%s\nDEBUG mode is active: do not run it like this in production. Set DEBUG=False (or run "
            "inside docker with a VERSION) to disable it.\n%s",
            "#" * 60,
            "#" * 60,
        )


def _activate_sentry(instance: OpenModuleCore, config: ServiceConfig, sentry: bool | None) -> None:
    """Report errors to sentry when asked to, or (``sentry=None``) in production only."""
    if sentry is None:  # production only (sentry_sdk is imported only when it is used)
        sentry = not is_development(config)
        if not sentry:
            log.info(
                "DEBUG or TESTING is set: not activating sentry (errors are only logged; pass "
                "sentry=True to init_openmodule to report them anyway)"
            )
    if sentry:
        from openmodule.sentry import init_sentry

        init_sentry(config, instance.publish)
        instance.sentry_was_initialized = True


def _teardown() -> None:
    global _core, _sigterm_installed
    instance = _core
    if instance is None:
        return
    _core = None  # first: whatever fails below, the next init_openmodule() can start a new core
    set_running_core(None)
    try:
        if instance.sentry_was_initialized:
            instance.sentry_was_initialized = False
            from openmodule.sentry import deinit_sentry

            deinit_sentry()
    except Exception:
        log.exception("error while switching sentry off")
    if _sigterm_installed and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _previous_sigterm if _previous_sigterm is not None else signal.SIG_DFL)
        _sigterm_installed = False
    instance.shutdown()
    if _owns_context:
        instance.context.term()


def _last_will(done: threading.Event, timeout: float) -> None:
    if not done.wait(timeout):
        sys.stderr.write(f"openmodule shutdown did not finish within {timeout:g} s, exiting hard\n")
        sys.stderr.flush()
        os._exit(LAST_WILL_EXIT_CODE)


def shutdown_openmodule() -> None:
    """Stop the running core: sentry off, default SIGTERM handling back, loops stopped, sockets closed.

    Outside TESTING/DEBUG a daemon "last will" thread ends the process with exit code 99 if this takes
    longer than 10 s (a hanging handler must not keep a container from stopping).
    """
    instance = _core
    if instance is None:
        raise AssertionError(
            "openmodule core is not running: call init_openmodule() first (in a test: is super().setUp() missing?)"
        )
    log.info("shutting down openmodule core")
    done = threading.Event()
    config = instance.config
    if not is_development(config):
        threading.Thread(
            target=_last_will, args=(done, LAST_WILL_TIMEOUT), name="openmodule-last-will", daemon=True
        ).start()
    try:
        _teardown()
    finally:
        done.set()
    log.info("openmodule core shut down")
