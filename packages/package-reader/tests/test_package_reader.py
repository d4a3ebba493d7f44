from __future__ import annotations

import pytest

from openmodule.utils.package_reader import PackageReader, ServiceSetting


def names(services):
    return [s.name for s in services]


def test_get_service_by_name(service_misc):
    reader = PackageReader(service_misc.client, timeout=10)
    service = reader.get_service_by_name("om_lpr_1")
    assert isinstance(service, ServiceSetting)
    assert (service.revision, service.software_type, service.yml) == (7, ["lpr"], {"threshold": 0.5})
    assert service.parent.name == "hw_camera_1"
    assert service.parent.package_data.readable_name == "Camera"
    assert reader.get_service_by_name("om_missing") is None


def test_list_all_services(service_misc):
    reader = PackageReader(service_misc.client, timeout=10)
    assert names(reader.list_all_services()) == ["hw_camera_1", "hw_io_1", "om_lpr_1", "om_access_1"]
    assert names(reader.list_all_services(prefix="om_")) == ["om_lpr_1", "om_access_1"]
    assert names(reader.list_all_services(compute_id=2)) == ["hw_camera_1", "om_lpr_1"]
    # None fields are omitted on the wire (18.x); service-misc then reads its defaults
    assert service_misc.fake.requests[0] == ("get_services", {"compute_id": None, "prefix": ""})


def test_list_by_types(service_misc):
    reader = PackageReader(service_misc.client, timeout=10)
    assert names(reader.list_by_hardware_type("camera")) == ["hw_camera_1"]
    assert names(reader.list_by_hardware_type("")) == ["hw_camera_1", "hw_io_1"]
    assert names(reader.list_by_hardware_type("camera", compute_id=1)) == []
    assert names(reader.list_by_parent_type("cam")) == ["om_lpr_1"]
    assert names(reader.list_by_software_type("access")) == ["om_access_1"]
    assert names(reader.list_by_software_type("lpr", compute_id=2)) == ["om_lpr_1"]


def test_needs_an_rpc_client():
    with pytest.raises(TypeError, match="rpc_client"):
        PackageReader()
