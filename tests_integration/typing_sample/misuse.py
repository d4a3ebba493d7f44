"""Misuse of the openmodule API that mypy must report (tests_integration/test_typing.py).

Each line marked ``# E: <error code>`` must be reported with that code, and nothing else: if the API were
untyped (``Any``), mypy would report none of them.
"""

from __future__ import annotations

from service import CountRequest, CountResponse, DemoMessage, count

from openmodule.config import settings
from openmodule.core import OpenModuleCore, core, init_openmodule


def misuse() -> None:
    init_openmodule(settings, health_handler=42)  # E: arg-type
    init_openmodule(object())  # E: arg-type
    service: OpenModuleCore = core()
    service.publish(42, "demo")  # E: arg-type
    DemoMessage(value="one")  # E: arg-type
    DemoMessage(valeu=1)  # E: call-arg
    name: int = service.config.NAME  # E: assignment
    response = service.rpc_client.rpc("counter", "count", CountRequest(plate="G ARIVO1"), CountResponse)
    print(response.cuont)  # E: attr-defined
    service.messages.register_handler("demo", DemoMessage, count)  # E: arg-type
    print(name)
