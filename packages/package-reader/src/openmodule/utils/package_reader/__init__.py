"""Read installed services/hardware packages and their configuration (RPC channel ``config``, answered by
``service-misc``, which must be running).

Usage::

    from openmodule.utils.package_reader import PackageReader

    reader = PackageReader(core.rpc_client)
    service = reader.get_service_by_name("om_service_foo_1")      # ServiceSetting | None
    cameras = reader.list_by_hardware_type("hw_camera", compute_id=1)
"""

from __future__ import annotations

from typing import TypeVar

from openmodule.messaging import RPCCaller
from openmodule.models.base import OpenModuleModel
from openmodule.models.package_reader import (
    BaseSetting,
    ConfigGetInstalledServicesRequest,
    ConfigGetServiceByNameRequest,
    ConfigGetServiceResponse,
    ConfigGetServicesByHardwareTypeRequest,
    ConfigGetServicesByParentTypeRequest,
    ConfigGetServicesBySoftwareTypeRequest,
    ConfigGetServicesResponse,
    PackageData,
    ServiceSetting,
)

__all__ = ["CHANNEL", "BaseSetting", "PackageData", "PackageReader", "ServiceSetting"]

CHANNEL = "config"

_R = TypeVar("_R", bound=OpenModuleModel)


class PackageReader:
    """Blocking queries of the installed packages; RPC failures raise the client's ``RPCClient`` exceptions.

    ``rpc_client``: the service's RPC client (``core().rpc_client``); it is passed in because this
    distribution sits below the core and never reaches up to it. ``compute_id=None`` means all compute units.

    Usage: ``PackageReader(core.rpc_client).list_all_services(prefix="om_")``
    """

    def __init__(self, rpc_client: RPCCaller | None = None, timeout: float | None = None) -> None:
        if rpc_client is None or not callable(getattr(rpc_client, "rpc", None)):
            raise TypeError("PackageReader needs an RPC client: PackageReader(core().rpc_client)")
        self.rpc_client = rpc_client
        self.timeout = timeout

    def _call(self, type: str, request: OpenModuleModel, response_type: type[_R]) -> _R:
        response: _R = self.rpc_client.rpc(CHANNEL, type, request, response_type, timeout=self.timeout)
        return response

    def get_service_by_name(self, service: str) -> ServiceSetting | None:
        """The package named ``service``, or ``None`` if it is not installed."""
        response = self._call(
            "get_service_by_name", ConfigGetServiceByNameRequest(name=service), ConfigGetServiceResponse
        )
        return response.service

    def list_all_services(
        self, prefix: str | None = None, compute_id: int | None = None
    ) -> list[ServiceSetting]:
        """All packages whose name starts with ``prefix`` (all with ``None``)."""
        request = ConfigGetInstalledServicesRequest(compute_id=compute_id, prefix=prefix)
        return self._call("get_services", request, ConfigGetServicesResponse).services

    def list_by_hardware_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        """Hardware packages (``hw_*``) with a hardware type starting with ``prefix``."""
        request = ConfigGetServicesByHardwareTypeRequest(compute_id=compute_id, hardware_type_prefix=prefix)
        return self._call(
            "get_services_by_hardware_type",
            request,
            ConfigGetServicesResponse,
        ).services

    def list_by_parent_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        """Service packages (``om_*``) with a parent type starting with ``prefix``."""
        request = ConfigGetServicesByParentTypeRequest(compute_id=compute_id, parent_type_prefix=prefix)
        return self._call(
            "get_services_by_parent_type",
            request,
            ConfigGetServicesResponse,
        ).services

    def list_by_software_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        """Service packages (``om_*``) with a software type starting with ``prefix``."""
        request = ConfigGetServicesBySoftwareTypeRequest(compute_id=compute_id, software_type_prefix=prefix)
        return self._call(
            "get_services_by_software_type",
            request,
            ConfigGetServicesResponse,
        ).services
