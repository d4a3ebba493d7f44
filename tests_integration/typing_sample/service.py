"""A small service written like the README's examples, for tests_integration/test_typing.py.

mypy checks it in strict mode, and with ``--disallow-any-expr``, against the installed distributions: no
error, and no ``Any`` leaking from the openmodule API into service code. ``assert_type`` pins the types of
the key API. It is checked, not run (running it needs a broker).
"""

from __future__ import annotations

import logging
from typing import assert_type

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from openmodule.alert import AlertHandleType, AlertStatus
from openmodule.config import settings
from openmodule.core import OpenModuleCore, core, core_or_none, init_openmodule, shutdown_openmodule
from openmodule.database import Base
from openmodule.dispatcher import SubscribingMessageDispatcher
from openmodule.health import HealthResult, health_error, health_ok
from openmodule.models.base import OpenModuleModel, ZMQMessage
from openmodule.rpc import RPCClient, RPCServer

log = logging.getLogger("sample")


class DemoMessage(ZMQMessage):
    """Published on topic ``demo``."""

    type: str = "demo"
    value: int


class CountRequest(OpenModuleModel):
    plate: str


class CountResponse(OpenModuleModel):
    count: int


class Sighting(Base):
    __tablename__ = "sighting"
    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(20))


failing = False


def healthy() -> HealthResult:
    if failing:
        return health_error("we have an error", meta={"error": "error"})
    return health_ok(meta={"this": "is_easy"})


def on_demo(message: DemoMessage) -> None:
    """Logs each demo message."""
    assert_type(message.value, int)
    log.info("demo %d from %s", message.value, message.name)


def count(request: CountRequest) -> CountResponse:
    """How many letters a plate has."""
    return CountResponse(count=len(request.plate))


def main() -> None:
    running = init_openmodule(settings, health_handler=healthy, database=True)
    assert_type(running, OpenModuleCore)
    try:
        service = core()  # no None check needed after init_openmodule
        assert_type(service, OpenModuleCore)
        assert_type(core_or_none(), OpenModuleCore | None)
        assert_type(service.messages, SubscribingMessageDispatcher)
        assert_type(service.rpc_client, RPCClient)

        service.messages.register_handler("demo", DemoMessage, on_demo, register_schema=True)
        message = DemoMessage(name=service.config.NAME, value=1)
        service.publish(message, "demo")
        service.health.health_handler = healthy

        alert_id = service.alerts.get_or_add_alert_id("camera_offline", AlertHandleType.state)
        service.alerts.send_with_alert_id(alert_id, AlertStatus.ok)

        rpc_server = RPCServer(context=service.context)
        rpc_server.register_handler(
            "counter", "count", request_class=CountRequest, response_class=CountResponse, handler=count
        )
        rpc_server.run_as_thread()
        response = service.rpc_client.rpc("counter", "count", CountRequest(plate="G ARIVO1"), CountResponse)
        assert_type(response, CountResponse)
        log.info("%d letters", response.count)
        rpc_server.shutdown()

        database = service.database  # None unless init_openmodule(database=True)
        assert database is not None
        with database as session:
            session.add(Sighting(plate="G ARIVO1"))
            assert_type(session.query(Sighting).count(), int)
    finally:
        shutdown_openmodule()
