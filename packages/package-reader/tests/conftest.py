from __future__ import annotations

import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.messaging import MessageLoop, Publisher, wait_for_connection
from openmodule.models.package_reader import (
    ConfigGetInstalledServicesRequest,
    ConfigGetServiceByNameRequest,
    ConfigGetServiceResponse,
    ConfigGetServicesByHardwareTypeRequest,
    ConfigGetServicesByParentTypeRequest,
    ConfigGetServicesBySoftwareTypeRequest,
    ConfigGetServicesResponse,
)
from openmodule.rpc import RPCClient, RPCServer

PACKAGES: list[dict[str, Any]] = [
    {
        "name": "hw_camera_1",
        "revision": 3,
        "hardware_type": ["camera:lpr"],
        "env": {"COMPUTE_ID": "2"},
        "yml": {"ip": "10.0.0.5"},
        "package_data": {"readable_name": "Camera", "description": "LPR camera"},
    },
    {"name": "hw_io_1", "revision": 1, "hardware_type": ["io"], "env": {}, "yml": {}},
    {
        "name": "om_lpr_1",
        "revision": 7,
        "parent_type": ["camera"],
        "software_type": ["lpr"],
        "env": {"PARENT": "hw_camera_1", "COMPUTE_ID": "2"},
        "yml": {"threshold": 0.5},
    },
    {"name": "om_access_1", "revision": 2, "software_type": ["access:db"], "env": {}, "yml": {}},
]


class FakeServiceMisc:
    """The answering side of the config RPCs, with the server semantics of service-misc."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    @staticmethod
    def _service(package: dict[str, Any]) -> dict[str, Any]:
        parent = next((p for p in PACKAGES if p["name"] == package["env"].get("PARENT")), None)
        return {**package, "parent": parent}

    def _select(self, compute_id: int | None, match: Any, name_prefix: str = "") -> dict[str, Any]:
        return {
            "services": [
                self._service(p)
                for p in PACKAGES
                if p["name"].startswith(name_prefix)
                and match(p)
                and (compute_id is None or int(p["env"].get("COMPUTE_ID", 1)) == compute_id)
            ]
        }

    def by_name(self, request: ConfigGetServiceByNameRequest) -> dict[str, Any]:
        self.requests.append(("get_service_by_name", request.model_dump(exclude_none=False)))
        found = next((p for p in PACKAGES if p["name"] == request.name), None)
        return {"service": self._service(found) if found else None}

    def all(self, request: ConfigGetInstalledServicesRequest) -> dict[str, Any]:
        self.requests.append(("get_services", request.model_dump(exclude_none=False)))
        return self._select(request.compute_id, lambda p: p["name"].startswith(request.prefix or ""))

    def _typed(self, field: str, prefix: str, compute_id: int | None, name_prefix: str) -> dict[str, Any]:
        return self._select(
            compute_id, lambda p: any(t.startswith(prefix) for t in p.get(field) or []), name_prefix
        )

    def hardware(self, request: ConfigGetServicesByHardwareTypeRequest) -> dict[str, Any]:
        return self._typed("hardware_type", request.hardware_type_prefix, request.compute_id, "hw_")

    def parent(self, request: ConfigGetServicesByParentTypeRequest) -> dict[str, Any]:
        return self._typed("parent_type", request.parent_type_prefix, request.compute_id, "om_")

    def software(self, request: ConfigGetServicesBySoftwareTypeRequest) -> dict[str, Any]:
        return self._typed("software_type", request.software_type_prefix, request.compute_id, "om_")


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> None:
    pass  # every test starts without service environment variables, with settings reset


@pytest.fixture
def service_misc(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """A fake service-misc RPC server and a connected RPC client on the real broker."""
    config = SimpleNamespace(
        NAME="package-reader-test",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="client").start()
    fake = FakeServiceMisc()
    server = RPCServer(om_zmq_context, filter_resource=False)
    for type_, request, response, handler in [
        ("get_service_by_name", ConfigGetServiceByNameRequest, ConfigGetServiceResponse, fake.by_name),
        ("get_services", ConfigGetInstalledServicesRequest, ConfigGetServicesResponse, fake.all),
        (
            "get_services_by_hardware_type",
            ConfigGetServicesByHardwareTypeRequest,
            ConfigGetServicesResponse,
            fake.hardware,
        ),
        (
            "get_services_by_parent_type",
            ConfigGetServicesByParentTypeRequest,
            ConfigGetServicesResponse,
            fake.parent,
        ),
        (
            "get_services_by_software_type",
            ConfigGetServicesBySoftwareTypeRequest,
            ConfigGetServicesResponse,
            fake.software,
        ),
    ]:
        server.register_handler("config", type_, request, response, handler, register_schema=False)
    server.run_as_thread()
    wait_for_connection(publisher, loop, timeout=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    yield SimpleNamespace(client=client, fake=fake)
    client.shutdown()
    server.shutdown()
    loop.stop()
    publisher.close(0)
