"""``MockPackageReader``: a package reader backed by an in-memory list of packages."""

from __future__ import annotations

import json
from typing import Any

from openmodule.models.package_reader import BaseSetting, PackageData, ServiceSetting

__all__ = ["FakeServiceRepo", "MockPackageReader"]


class FakeServiceRepo:
    """The installed packages, answering like the configuration service does."""

    def __init__(self) -> None:
        self.packages: dict[str, BaseSetting] = {}

    def add_package(self, setting: BaseSetting) -> None:
        self.packages[setting.name] = setting

    def add_hardware_package(
        self,
        name: str,
        env: dict[str, Any] | None = None,
        yml: dict[str, Any] | None = None,
        hardware_type: list[str] | None = None,
        ip: str | None = None,
        revision: int | None = None,
        package_data: PackageData | None = None,
    ) -> None:
        env = dict(env or {})
        yml = dict(yml or {})
        if hardware_type is not None:
            env["HARDWARE_TYPE"] = json.dumps(hardware_type)
        if ip is not None:
            yml.setdefault("network", {})["addresses"] = [f"{ip}/24"]
        self.add_package(
            BaseSetting(
                name=name,
                env=env,
                yml=yml,
                hardware_type=hardware_type,
                revision=revision or 1,
                package_data=package_data,
            )
        )

    def add_software_package(
        self,
        name: str,
        env: dict[str, Any] | None = None,
        yml: dict[str, Any] | None = None,
        parent_type: list[str] | None = None,
        revision: int | None = None,
        parent: str | None = None,
        package_data: PackageData | None = None,
        software_type: list[str] | None = None,
    ) -> None:
        env = dict(env or {})
        if parent_type is not None:
            env["PARENT_TYPE"] = json.dumps(parent_type)
        if software_type is not None:
            env["SOFTWARE_TYPE"] = json.dumps(software_type)
        if parent is not None:
            env["PARENT"] = parent
        self.add_package(
            BaseSetting(
                name=name,
                env=env,
                yml=dict(yml or {}),
                parent_type=parent_type,
                software_type=software_type,
                revision=revision or 1,
                package_data=package_data,
            )
        )

    def remove(self, name: str) -> None:
        self.packages.pop(name, None)

    def service(self, setting: BaseSetting) -> ServiceSetting:
        parent_name = setting.env.get("PARENT")
        parent = self.packages.get(parent_name) if parent_name else None
        return ServiceSetting.model_validate({**setting.dict(), "parent": parent.dict() if parent else None})

    def select(self, compute_id: int | None, keep: Any) -> list[ServiceSetting]:
        result = []
        for setting in self.packages.values():
            if compute_id is not None and int(setting.env.get("COMPUTE_ID", 1)) != compute_id:
                continue
            if keep(setting):
                result.append(self.service(setting))
        return result


def _any_prefix(values: list[str] | None, prefix: str) -> bool:
    return any(v.startswith(prefix) for v in values or ())


class MockPackageReader:
    """Same methods as ``openmodule.utils.package_reader.PackageReader``; packages live in ``self.services``.

    Usage::

        reader = MockPackageReader()
        reader.services.add_hardware_package("hw_camera_1", hardware_type=["camera:ip"], ip="10.0.0.5")
        assert reader.list_by_hardware_type("camera")[0].name == "hw_camera_1"
    """

    def __init__(self) -> None:
        self.services = FakeServiceRepo()

    def get_service_by_name(self, service: str) -> ServiceSetting | None:
        setting = self.services.packages.get(service)
        return self.services.service(setting) if setting else None

    def list_all_services(
        self, prefix: str | None = None, compute_id: int | None = None
    ) -> list[ServiceSetting]:
        return self.services.select(compute_id, lambda s: s.name.startswith(prefix or ""))

    def list_by_hardware_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        return self.services.select(
            compute_id, lambda s: s.name.startswith("hw_") and _any_prefix(s.hardware_type, prefix)
        )

    def list_by_parent_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        return self.services.select(
            compute_id, lambda s: s.name.startswith("om_") and _any_prefix(s.parent_type, prefix)
        )

    def list_by_software_type(self, prefix: str, compute_id: int | None = None) -> list[ServiceSetting]:
        return self.services.select(
            compute_id, lambda s: s.name.startswith("om_") and _any_prefix(s.software_type, prefix)
        )
