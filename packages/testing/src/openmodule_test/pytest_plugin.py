"""pytest fixtures for openmodule services (registered through the ``pytest11`` entry point).

Loading the plugin imports ``openmodule.database``, so that test modules whose models are declared
1.4-style (plain annotations on SQLAlchemy's ``declarative_base()``) map even when they are imported before
anything of openmodule (see ``openmodule.database.allow_legacy_annotations``).

Fixtures (other imports happen inside them):

- ``om_settings``: ``om_settings(NAME="x", ...)`` overrides settings for the test; restored afterwards.
- ``om_broker``: a broker on free loopback TCP ports; settings BROKER_SUB/BROKER_PUB point at it.
- ``om_client``: a ``TestClient`` on that broker (``subscribe``, ``send``, ``wait_for_message_on_topic``).
- ``om_core``: ``init_openmodule`` on that broker (sentry and dsgvo off), shut down after the test.
- ``om_rpc_server``: an ``RPCServer`` on that broker; register handlers, it is already running.
- ``om_rpc``: ``om_rpc(channel, type, request, ResponseModel)`` through the test client.
- ``om_database``: a fresh database migrated to head from ``om_alembic_path`` (default ``../src/database``).

Usage::

    def test_pong(om_core, om_client):
        om_client.subscribe("healthpong")
        om_client.send("healthz", type="ping")
        assert om_client.wait_for_message_on_topic("healthpong")["pong"]["status"] == "ok"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixtures import these when they run: loading the plugin stays cheap
    from openmodule.core import OpenModuleCore
    from openmodule.database import Database
    from openmodule.rpc import RPCServer
    from openmodule_test.zeromq import TestBroker, TestClient

# import for its effect: test modules are imported after plugins, and a 1.4-style model module is often
# the first thing a service's test imports
import openmodule.database  # noqa: F401

__all__ = [
    "om_alembic_path",
    "om_broker",
    "om_client",
    "om_core",
    "om_database",
    "om_rpc",
    "om_rpc_server",
    "om_settings",
]


@pytest.fixture
def om_settings() -> Iterator[Callable[..., None]]:
    from openmodule.config import settings

    applied: list[dict[str, Any]] = []

    def override(**values: Any) -> None:
        settings.override(**values)
        applied.append(values)

    yield override
    for values in reversed(applied):
        settings.clear_override(**values)


@pytest.fixture
def om_broker(om_settings: Callable[..., None]) -> Iterator[TestBroker]:
    from openmodule_test.zeromq import TestBroker, free_tcp_port

    broker = TestBroker(f"tcp://127.0.0.1:{free_tcp_port()}", f"tcp://127.0.0.1:{free_tcp_port()}")
    broker.start()
    om_settings(BROKER_SUB=broker.sub_bind, BROKER_PUB=broker.pub_bind)
    yield broker
    broker.stop()


@pytest.fixture
def om_client(om_broker: TestBroker) -> Iterator[TestClient]:
    from openmodule_test.zeromq import TestClient

    client = TestClient(om_broker)
    client.start()
    yield client
    client.stop()


@pytest.fixture
def om_core(om_broker: TestBroker, om_client: TestClient) -> Iterator[OpenModuleCore]:
    from openmodule.config import settings
    from openmodule.core import core_or_none, init_openmodule, shutdown_openmodule

    instance = init_openmodule(settings, context=om_broker.context, sentry=False, dsgvo=False)
    try:
        yield instance
    finally:
        if core_or_none() is not None:
            shutdown_openmodule()


@pytest.fixture
def om_rpc_server(om_broker: TestBroker, om_client: TestClient) -> Iterator[RPCServer]:
    """A running RPCServer; ``register_handler`` returns once the new channel's subscription is live."""
    import time
    import uuid

    from openmodule.models.base import EmptyModel
    from openmodule.rpc import RPCServer

    server = RPCServer(context=om_broker.context)
    server.run_as_thread()
    register = server.register_handler
    ready: set[str] = set()

    def register_and_wait(channel: str, type: str, *args: Any, **kwargs: Any) -> Any:
        result = register(channel, type, *args, **kwargs)
        if channel not in ready and not type.startswith("_om_ping"):
            ready.add(channel)
            answered: list[bool] = []

            def ping(request: Any, message: Any) -> None:
                """fixture readiness probe"""
                answered.append(True)

            register(channel, "_om_ping", EmptyModel, EmptyModel, ping, register_schema=False)
            deadline = time.monotonic() + 10
            while not answered and time.monotonic() < deadline:
                om_client._send_raw(
                    f"rpc-req-{channel}",
                    {
                        "type": "_om_ping",
                        "name": "testclient",
                        "timestamp": time.time(),
                        "rpc_id": str(uuid.uuid4()),
                        "request": {},
                    },
                )
                time.sleep(0.02)
            assert answered, f"the RPC server did not receive on channel {channel!r} within 10 s"
        return result

    server.register_handler = register_and_wait  # type: ignore[method-assign]
    yield server
    server.shutdown()


@pytest.fixture
def om_rpc(om_client: TestClient) -> Callable[..., Any]:
    import time
    import uuid

    from openmodule.config import settings
    from openmodule.rpc import RPCClient, RPCEntry

    def call(
        channel: str,
        type: str,
        request: Any,
        response_type: type,
        timeout: float = 3,
        resource: str | None = None,
    ) -> Any:
        om_client.subscribe(f"rpc-rep-{channel}")
        payload = (
            request.model_dump(by_alias=True, exclude_none=True, mode="json")
            if hasattr(request, "model_dump")
            else request
        )
        rpc_id = str(uuid.uuid4())
        om_client._send_raw(
            f"rpc-req-{channel}",
            {
                "type": type,
                "name": "testclient",
                "timestamp": time.time(),
                "rpc_id": rpc_id,
                "request": payload,
                "resource": resource if resource is not None else settings.RESOURCE,
            },
        )
        try:
            _t, message = om_client.wait_for_message(
                lambda t, m: t == f"rpc-rep-{channel}" and str(m.get("rpc_id")) == rpc_id, timeout
            )
        except TimeoutError:
            raise RPCClient.TimeoutError(f"no response to {channel}/{type} within {timeout}s") from None
        entry = RPCEntry(timeout, uuid.UUID(rpc_id), channel=channel, type=type)
        entry._set_response(message["response"])
        return entry.result(response_type)

    return call


@pytest.fixture
def om_alembic_path() -> str:
    """Override in your conftest to point at your service's migration folder."""
    return "../src/database"


@pytest.fixture
def om_database(om_alembic_path: str, tmp_path: Path) -> Iterator[Database]:
    from openmodule.database import create_test_database

    database = create_test_database(om_alembic_path, str(tmp_path / "test"))
    yield database
    database.shutdown()
