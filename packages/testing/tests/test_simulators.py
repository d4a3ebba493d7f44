"""VehicleBuilder / PresenceSimulator against the real PresenceListener, the mocks of package reader and
connection status."""

from __future__ import annotations

import threading

import pytest

from openmodule.connection_status import ConnectionRPCResponse, ConnectionStatus
from openmodule.models.base import Direction
from openmodule.models.vehicle import EnterDirection
from openmodule.utils.presence import PresenceListener
from openmodule_test.connection_status import ConnectionStatusMocker
from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.eventlistener import MockEvent
from openmodule_test.package_reader import MockPackageReader
from openmodule_test.presence import PresenceSimulator, VehicleBuilder
from openmodule_test.utils import DeveloperError


def test_vehicle_builder():
    builder = VehicleBuilder().id(1_700_000_000_000_000_000).lpr("A", "GARIVO1").nfc("0123").qr("qr-1")
    vehicle = builder.vehicle()
    assert vehicle.id == 1_700_000_000_000_000_000
    assert vehicle.lpr.id == "GARIVO1" and vehicle.lpr.country.code == "A"
    assert vehicle.nfc.id == "0123" and vehicle.qr.id == "qr-1" and vehicle.pin is None
    assert [m.id for m in vehicle.all_ids.lpr] == ["GARIVO1"]
    assert vehicle.make_model.make == "UNKNOWN" and vehicle.make_model.make_confidence == 0.7
    assert builder.lpr(None).vehicle().lpr is None
    assert builder.set_enter_direction("forward").vehicle().enter_direction is EnterDirection.forward


def test_two_builders_get_different_ids():
    assert VehicleBuilder().vehicle_id != VehicleBuilder().vehicle_id


class PresenceSimulatorTest(OpenModuleCoreTestMixin):
    topics = ["healthpong", "presence"]

    def setUp(self):
        super().setUp()
        self.listener = PresenceListener(self.core.messages)
        self.on_enter, self.on_forward, self.on_leave = MockEvent(), MockEvent(), MockEvent()
        self.listener.on_enter.append(self.on_enter)
        self.listener.on_forward.append(self.on_forward)
        self.listener.on_leave.append(self.on_leave)
        self.wait_for_dispatcher(self.core.messages)
        self.sim = PresenceSimulator("gate_1", Direction.IN, lambda m: self.zmq_client.send("presence", m))

    def test_enter_forward(self):
        car = self.sim.vehicle().lpr("A", "GARIVO1")
        self.sim.enter(car)
        self.on_enter.wait_for_call()
        vehicle, gateway = self.on_enter.call_args.args
        assert vehicle.id == car.vehicle_id and vehicle.lpr.id == "GARIVO1"
        assert str(gateway) == "gate_1/in"
        self.sim.forward()
        self.on_forward.wait_for_call()
        assert self.on_forward.call_args.args[0].id == car.vehicle_id

    def test_message_on_the_wire(self):
        car = self.sim.vehicle().lpr("D", "M AB 123")
        self.sim.enter(car)
        message = self.zmq_client.wait_for_message_on_topic("presence")
        assert message["type"] == "enter" and message["name"] == "presence-sim"
        assert message["present-area-name"] == "gate_1-present"
        assert message["gateway"] == {"gate": "gate_1", "direction": "in"}
        assert message["medium"]["lpr"]["id"] == "M AB 123"

    def test_leave_without_vehicle_is_a_developer_error(self):
        with pytest.raises(DeveloperError):
            self.sim.leave()

    def test_misuse_is_also_an_assertion_error(self):
        car = self.sim.vehicle().lpr("A", "G ARIVO1")
        self.sim.enter(car)
        with pytest.raises(AssertionError, match="the vehicle id must change"):
            self.sim.change_vehicle_and_id(car)
        with pytest.raises(AssertionError, match="change\\(\\) takes the present vehicle"):
            self.sim.change(self.sim.vehicle())


def test_mock_package_reader():
    reader = MockPackageReader()
    reader.services.add_hardware_package("hw_camera_1", hardware_type=["camera:ip"], ip="10.0.0.5")
    reader.services.add_software_package(
        "om_lpr_1",
        parent="hw_camera_1",
        parent_type=["camera"],
        software_type=["lpr"],
        env={"COMPUTE_ID": "2"},
    )
    assert [s.name for s in reader.list_by_hardware_type("camera")] == ["hw_camera_1"]
    assert [s.name for s in reader.list_by_parent_type("cam")] == ["om_lpr_1"]
    assert reader.list_by_software_type("lpr", compute_id=1) == []
    service = reader.get_service_by_name("om_lpr_1")
    assert service.parent.name == "hw_camera_1"
    assert reader.get_service_by_name("hw_camera_1").yml["network"]["addresses"] == ["10.0.0.5/24"]
    assert sorted(s.name for s in reader.list_all_services()) == ["hw_camera_1", "om_lpr_1"]
    reader.services.remove("om_lpr_1")
    assert reader.get_service_by_name("om_lpr_1") is None


def test_connection_status_mocker():
    mocker = ConnectionStatusMocker(ConnectionRPCResponse(connected=ConnectionStatus.online))
    assert mocker.get() == ConnectionStatus.online and mocker.previous == ConnectionStatus.shutdown
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(mocker.wait_for_change(timeout=5)))
    waiter.start()
    mocker.change_status(ConnectionRPCResponse(connected=ConnectionStatus.offline))
    waiter.join(5)
    assert woke == [True]
    assert mocker.get() == ConnectionStatus.offline and mocker.previous == ConnectionStatus.online
    assert mocker.wait_for_change(timeout=0.05) is False


# -- access service mixins ---------------------------------------------------------------------------------
from openmodule.models.access_service import AccessCheckResponse, AccessRequestVehicle  # noqa: E402
from openmodule.models.vehicle import LPRMedium  # noqa: E402
from openmodule.utils.access_service import AccessServiceWithSessions  # noqa: E402
from openmodule_test.access_service import AccessServiceWithSessionsTestMixin  # noqa: E402


class PlateList(AccessServiceWithSessions):
    allowed = {"GARIVO1"}

    def __init__(self, dispatcher):
        super().__init__(dispatcher)
        self.checked_in = MockEvent()
        self.checked_out = MockEvent()

    def rpc_check_access(self, request, message=None):
        plate = request.vehicle.lpr.id if request.vehicle.lpr else None
        return AccessCheckResponse(success=plate in self.allowed)

    def check_in_session(self, message):
        self.checked_in(message)

    def check_out_session(self, message):
        self.checked_out(message)


class AccessServiceMixinTest(AccessServiceWithSessionsTestMixin):
    access_service_class = PlateList

    def test_check_auth_calls_the_service(self):
        assert self.check_auth(AccessRequestVehicle(lpr=LPRMedium(id="GARIVO1"))).success is True
        assert self.check_auth(AccessRequestVehicle(lpr=LPRMedium(id="OTHER1"))).success is False

    def test_session_messages_reach_the_handlers(self):
        self.send_session_start_message(session_id="s-42")
        self.access_service.checked_in.wait_for_call()
        assert self.access_service.checked_in.call_args.args[0].id == "s-42"
        self.send_session_finish_message(session_id="s-42")
        self.access_service.checked_out.wait_for_call()
        message = self.access_service.checked_out.call_args.args[0]
        assert message.exit_data["gate"] == "gate2" and message.access_id == "user-1"


def test_the_sample_access_service_describes_its_rpc_handler():
    # In a service's test run with the schema tooling loaded, an RPC handler without a docstring is refused
    # ("You need to describe the RPC handler"): the sample service the mixins use must carry one.
    from openmodule_test.access_service import TestAccessServiceWithSessions

    assert (TestAccessServiceWithSessions.rpc_check_access.__doc__ or "").strip()


class SampleAccessServiceTest(AccessServiceWithSessionsTestMixin):
    from openmodule_test.access_service import TestAccessServiceWithSessions as access_service_class

    def test_a_failing_session_handler_is_logged_before_the_message_counts_as_handled(self):
        self.send_session_start_message(gate="gate1")
        self.access_service.wait_for_message_process()
        assert len(self.access_service.checked_in) == 1
        # wait_for_message_process() returns after the base class logged the failure: a test that waits
        # for the message sees its log record at once (no race with the receiving thread).
        for _ in range(20):
            with self.assertLogs("openmodule.utils.access_service", "ERROR") as logs:
                self.send_session_start_message(gate="error")
                self.access_service.wait_for_message_process()
                assert logs.output and "Error in session check in" in logs.output[0]
        assert len(self.access_service.checked_in) == 1
