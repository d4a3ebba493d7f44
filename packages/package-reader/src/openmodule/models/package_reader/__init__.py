"""Models of the ``config`` RPCs answered by the system configuration service (``service-misc``).

Usage: ``ServiceSetting.model_validate(raw).parent``
"""

from __future__ import annotations

from typing import Any

from openmodule.models.base import OpenModuleModel

__all__ = [
    "BaseSetting",
    "ConfigGetInstalledServicesRequest",
    "ConfigGetServiceByNameRequest",
    "ConfigGetServiceResponse",
    "ConfigGetServicesByHardwareTypeRequest",
    "ConfigGetServicesByParentTypeRequest",
    "ConfigGetServicesBySoftwareTypeRequest",
    "ConfigGetServicesResponse",
    "PackageData",
    "ServiceSetting",
]


class PackageData(OpenModuleModel):
    readable_name: str
    description: str
    model: str | None = None


class BaseSetting(OpenModuleModel):
    """An installed package: its types, revision, environment and YAML configuration."""

    hardware_type: list[str] | None = None
    parent_type: list[str] | None = None
    software_type: list[str] | None = None
    name: str
    revision: int
    env: dict[str, Any]
    yml: dict[str, Any]
    package_data: PackageData | None = None


class ServiceSetting(BaseSetting):
    """A package with its parent (the package named by its env ``PARENT``), if any."""

    parent: BaseSetting | None = None


class ConfigGetServiceByNameRequest(OpenModuleModel):
    name: str


class ConfigGetInstalledServicesRequest(OpenModuleModel):
    compute_id: int | None = None
    prefix: str | None = ""


class ConfigGetServicesByHardwareTypeRequest(OpenModuleModel):
    compute_id: int | None = None
    hardware_type_prefix: str = ""


class ConfigGetServicesByParentTypeRequest(OpenModuleModel):
    compute_id: int | None = None
    parent_type_prefix: str = ""


class ConfigGetServicesBySoftwareTypeRequest(OpenModuleModel):
    compute_id: int | None = None
    software_type_prefix: str = ""


class ConfigGetServiceResponse(OpenModuleModel):
    service: ServiceSetting | None = None


class ConfigGetServicesResponse(OpenModuleModel):
    services: list[ServiceSetting]
