"""The unittest mixins, used the way a service's test suite uses them."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time

import pytest
from sqlalchemy import text

from openmodule.config import settings
from openmodule.database import Database
from openmodule.models.base import OpenModuleModel, ZMQMessage
from openmodule.rpc import RPCClient, RPCServer
from openmodule_test.alert import AlertTestMixin
from openmodule_test.core import OpenModuleCoreTestMixin
from openmodule_test.database import SQLiteTestMixin
from openmodule_test.eventlistener import MockEvent
from openmodule_test.interrupt import InterruptTestMixin
from openmodule_test.main import MainTestMixin
from openmodule_test.rpc import RPCServerTestMixin
from openmodule_test.utils import DeveloperError
from openmodule_test.zeromq import ZMQProtocol, ZMQTestMixin

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


class Greeting(ZMQMessage):
    type: str = "greeting"
    text: str


class EchoRequest(OpenModuleModel):
    text: str


class EchoResponse(OpenModuleModel):
    text: str
    length: int


class ZMQClientTest(ZMQTestMixin):
    topics = ["greetings"]

    def test_message_round_trip_through_the_broker(self):
        self.zmq_client.send("greetings", type="greeting", text="hallo")
        message = self.zmq_client.wait_for_message_on_topic("greetings")
        assert message["text"] == "hallo" and message["name"] == "testcase" and message["type"] == "greeting"

    def test_not_subscribed_topic_is_a_developer_error(self):
        with pytest.raises(DeveloperError, match="other-topic"):
            self.zmq_client.wait_for_message_on_topic("other-topic", timeout=0.1)
        with pytest.raises(AssertionError, match="other-topic"):
            self.assertSubscription("other-topic")

    def test_wait_times_out_without_message(self):
        with pytest.raises(TimeoutError):
            self.zmq_client.wait_for_message_on_topic("greetings", timeout=0.2)

    def test_message_needs_type(self):
        with pytest.raises(DeveloperError):
            self.zmq_client.send("greetings", text="no type")


class TCPClientTest(ZMQClientTest):
    protocol = ZMQProtocol.TCP


class CoreMixinTest(OpenModuleCoreTestMixin, AlertTestMixin):
    topics = ["healthpong", "alert"]

    def test_health_and_user_handler(self):
        self.assertHealthOk(self.get_health("om_testing_service_1"))
        handler = MockEvent()
        self.core.messages.register_handler("greetings", Greeting, handler, register_schema=False)
        self.wait_for_dispatcher(self.core.messages)
        handler.reset_mock()
        self.zmq_client.send("greetings", type="greeting", text="servus")
        handler.wait_for_call()
        assert handler.call_args.args[0].text == "servus"

    def test_alert_on_the_wire(self):
        from openmodule.models.alert import AlertHandleType, AlertStatus

        self.core.alerts.send(
            "door_open", AlertHandleType.state_change, status=AlertStatus.error, source="gate_1"
        )
        alert = self.assertAlert(alert_type="door_open")
        assert alert["status"] == "error"
        self.assertNoAlert(timeout=0.3, alert_type="something_else")

    def test_init_kwargs_are_not_shared(self):
        assert type(self).init_kwargs == {}
        assert self.get_init_kwargs() == {"sentry": False, "dsgvo": False}


class RPCMixinTest(RPCServerTestMixin):
    rpc_channels = ["echo"]

    def setUp(self):
        super().setUp()
        self.server = RPCServer(context=self.zmq_context())
        self.server.register_handler(
            "echo", "say", EchoRequest, EchoResponse, self.on_say, register_schema=False
        )
        self.server.register_handler(
            "echo", "fail", EchoRequest, EchoResponse, self.on_fail, register_schema=False
        )
        self.server.run_as_thread()
        self.addCleanup(self.server.shutdown)
        self.wait_for_rpc_server(self.server)

    def on_say(self, request: EchoRequest, _message):
        return EchoResponse(text=request.text.upper(), length=len(request.text))

    def on_fail(self, request: EchoRequest, _message):
        raise ValueError(f"cannot handle {request.text}")

    def test_rpc_returns_parsed_response(self):
        response = self.rpc("echo", "say", EchoRequest(text="abc"), EchoResponse)
        assert response == EchoResponse(text="ABC", length=3)

    def test_handler_error_maps_to_client_exception(self):
        with pytest.raises(RPCClient.ServerHandlerError, match="cannot handle boom"):
            self.rpc("echo", "fail", EchoRequest(text="boom"), EchoResponse)

    def test_validation_error(self):
        with pytest.raises(RPCClient.ServerValidationError, match="text"):
            self.rpc("echo", "say", {"nope": 1}, EchoResponse)

    def test_wait_for_rpc_response(self):
        assert self.wait_for_rpc_response("echo", "say", EchoRequest(text="x"), EchoResponse).length == 1

    def test_other_resource_is_not_answered(self):
        with pytest.raises(RPCClient.TimeoutError):
            self.rpc("echo", "say", EchoRequest(text="x"), EchoResponse, timeout=0.3, resource="someone-else")

    def test_unknown_channel_is_a_developer_error(self):
        with pytest.raises(DeveloperError):
            self.receive_rpc_response("not-declared", "00000000-0000-0000-0000-000000000000", EchoResponse)


class DatabaseMixinTest(SQLiteTestMixin):
    alembic_path = os.path.join(FIXTURES, "service_db")
    database_folder = os.path.join(tempfile.mkdtemp(prefix="om-mixin-"), "test")

    def test_1_write(self):
        with self.database as session:
            session.execute(text("INSERT INTO parking_session (plate) VALUES ('G ARIVO1')"))
        with self.database as session:
            assert session.execute(text("SELECT count(*) FROM parking_session")).scalar() == 1

    def test_2_tables_are_empty_again(self):
        with self.database as session:
            assert session.execute(text("SELECT count(*) FROM parking_session")).scalar() == 0

    def test_3_a_second_database_in_the_same_folder(self):
        folder = self.get_database_folder()
        assert folder == self.database_folder and os.path.samefile(folder, self.database.db_folder)
        other = Database(folder, "second", alembic_path=self.alembic_path)
        try:
            assert os.path.isfile(os.path.join(folder, "second.sqlite3"))
        finally:
            other.shutdown()
            self.delete_database(other)
        assert not os.path.exists(os.path.join(folder, "second.sqlite3"))


class DatabaseFolderFromSettingsTest(SQLiteTestMixin):
    alembic_path = os.path.join(FIXTURES, "service_db")
    create_database = False

    def test_folder_defaults_to_the_settings(self):
        assert self.get_database_folder() == settings.DATABASE_FOLDER


def service_main():
    """A minimal service main as services write it."""
    from openmodule.config import settings
    from openmodule.core import init_openmodule, shutdown_openmodule

    core = init_openmodule(settings, sentry=False, dsgvo=False)
    try:
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        core.log.info("KeyboardInterrupt received, shutting down") if hasattr(core, "log") else None
        import logging

        logging.getLogger("service").info("KeyboardInterrupt: shutting down")
    finally:
        shutdown_openmodule()


def stuck_cleanup():
    threading.Event().wait()


def main_that_hangs_on_shutdown():
    """A service whose cleanup never returns."""
    from openmodule.config import settings
    from openmodule.core import init_openmodule

    init_openmodule(settings, sentry=False, dsgvo=False)
    try:
        while True:
            time.sleep(0.05)
    finally:
        stuck_cleanup()


class MainMixinTest(MainTestMixin):
    def test_sigint_shuts_down_cleanly(self):
        with self.assertLogs(level="INFO") as logs:
            process = self.start_process(service_main)
            self.wait_for_health("om_testing_service_1", timeout=10)
            self.send_signal_to_process(process, signal.SIGINT)
            self.assertCleanShutdown(process, shutdown_timeout=10)
        assert any("KeyboardInterrupt" in line for line in logs.output)

    def test_sigterm_shuts_down_cleanly(self):
        process = self.start_process(service_main)
        self.wait_for_health("om_testing_service_1", timeout=10)
        self.send_signal_to_process(process, signal.SIGTERM)
        self.assertCleanShutdown(process, shutdown_timeout=10)

    @pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="stacks are asked for with SIGUSR1")
    def test_a_hanging_shutdown_reports_where_the_child_hangs(self):
        process = self.start_process(main_that_hangs_on_shutdown)
        self.wait_for_health("om_testing_service_1", timeout=10)
        self.send_signal_to_process(process, signal.SIGINT)
        with pytest.raises(
            TimeoutError, match="took to long for shutdown: it did not finish within 1 s"
        ) as raised:
            self.assertCleanShutdown(process, shutdown_timeout=1)
        assert "in stuck_cleanup" in str(raised.value)
        assert not process.is_alive()

    def test_process_that_dies_is_not_a_clean_shutdown(self):
        process = self.start_process(lambda: os._exit(3))
        with pytest.raises(AssertionError, match="did not finish gracefully: it ended \\(exit code 3\\)"):
            self.assertCleanShutdown(process, shutdown_timeout=5)


def waits_for_ctrl_c():
    import logging

    try:
        logging.getLogger("child").warning("ready")
        time.sleep(30)
    except KeyboardInterrupt:
        logging.getLogger("child").error("got Ctrl-C, stopping")


def ignores_everything():
    import logging

    logging.getLogger("child").warning("ready")
    while True:
        try:
            time.sleep(30)
        except BaseException:
            pass


class SignalInFunctionTest(InterruptTestMixin):
    # The 12.x one-call form: start, wait, signal, assert the shutdown, hand back the child's log.
    def wait_for_setup(self, process, timeout=3.0):
        # Readiness from the child's log instead of the fixed delay (a loaded machine may be slow to fork).
        deadline = time.monotonic() + 30
        while process.is_alive() and "ready" not in process.output() and time.monotonic() < deadline:
            time.sleep(0.01)

    def test_returns_the_childs_log_after_a_clean_shutdown(self):
        with pytest.warns(DeprecationWarning):
            output = self.signal_in_function(waits_for_ctrl_c, KeyboardInterrupt, raise_exception_after=0.3)
        assert "ERROR:child:got Ctrl-C, stopping" in output

    def test_an_unhandled_signal_is_not_a_graceful_finish(self):
        with (
            pytest.warns(DeprecationWarning),
            pytest.raises(AssertionError, match="did not finish gracefully"),
        ):
            self.signal_in_function(waits_for_ctrl_c, signal.SIGTERM, raise_exception_after=0.3)

    def test_a_child_that_keeps_running_is_killed(self):
        with pytest.warns(DeprecationWarning), pytest.raises(TimeoutError, match="took to long for shutdown"):
            self.signal_in_function(
                ignores_everything, signal.SIGINT, raise_exception_after=0.3, shutdown_timeout=0.5
            )

    def test_a_child_that_died_before_the_signal_is_reported(self):
        with (
            pytest.warns(DeprecationWarning),
            pytest.raises(AssertionError, match="did not finish gracefully"),
        ):
            self.signal_in_function(lambda: os._exit(2), signal.SIGINT, raise_exception_after=5)


def test_main_test_mixin_is_importable_where_the_reference_has_it():
    import openmodule_test.interrupt
    import openmodule_test.main

    assert openmodule_test.interrupt.MainTestMixin is openmodule_test.main.MainTestMixin


def test_mock_event_waits_and_guards_double_wait():
    event = MockEvent()
    threading.Timer(0.05, event, args=("x",)).start()
    event.wait_for_call()
    event.assert_called_once_with("x")
    with pytest.raises(DeveloperError):
        event.wait_for_call()
    event.reset_mock()
    with pytest.raises(TimeoutError):
        event.wait_for_call(timeout=0.1)


def test_mock_event_times_out_while_the_test_clock_is_frozen(monkeypatch):
    # tests that freeze time (freezegun) patch time.monotonic; a wait for a call that never comes must
    # still end with TimeoutError instead of spinning forever
    import time as time_module

    frozen = time_module.monotonic()
    monkeypatch.setattr(time_module, "monotonic", lambda: frozen)
    event = MockEvent()
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            event.wait_for_call(timeout=0.1)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    waiter.join(10)
    assert not waiter.is_alive(), "wait_for_call spun on the frozen clock"
    assert len(outcome) == 1 and isinstance(outcome[0], TimeoutError)


def test_mock_event_wakes_on_the_nth_call():
    event = MockEvent()
    for i in range(3):
        threading.Timer(0.01 * i, event, args=(i,)).start()
    event.wait_for_call(minimum_call_count=3)
    assert sorted(c.args[0] for c in event.call_args_list) == [0, 1, 2]
