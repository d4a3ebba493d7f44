"""The pytest fixtures, used the way a service's pytest suite uses them."""

from __future__ import annotations

from sqlalchemy import text

from openmodule.config import settings
from openmodule.models.base import OpenModuleModel
from openmodule.rpc import RPCClient


class Ping(OpenModuleModel):
    value: int


class Pong(OpenModuleModel):
    value: int


def test_om_settings_restores(om_settings):
    om_settings(NAME="overridden")
    assert settings.NAME == "overridden"


def test_settings_back_after_override():
    assert settings.NAME == "om_testing_service_1"


def test_om_core_answers_health(om_core, om_client):
    om_client.subscribe("healthpong")
    om_client.send("healthz", type="ping")
    pong = om_client.wait_for_message_on_topic("healthpong")
    assert pong["name"] == "om_testing_service_1" and pong["pong"]["status"] == "ok"


def test_om_rpc_server_and_om_rpc(om_rpc_server, om_rpc):
    def handler(request: Ping, _message):
        """double"""
        return Pong(value=request.value * 2)

    om_rpc_server.register_handler("calc", "double", Ping, Pong, handler, register_schema=False)
    deadline_calls = [om_rpc("calc", "double", Ping(value=i), Pong, timeout=1) for i in range(3)]
    assert [p.value for p in deadline_calls] == [0, 2, 4]


def test_om_rpc_times_out_for_unknown_channel(om_rpc):
    import pytest

    with pytest.raises(RPCClient.TimeoutError):
        om_rpc("nobody", "home", Ping(value=1), Pong, timeout=0.2)


def test_om_database_is_migrated_and_empty(om_database):
    with om_database as session:
        assert session.execute(text("SELECT count(*) FROM parking_session")).scalar() == 0
        session.execute(text("INSERT INTO parking_session (plate) VALUES ('X')"))
    with om_database as session:
        assert session.execute(text("SELECT plate FROM parking_session")).scalar() == "X"


def test_plugin_lets_1_4_style_models_imported_first_map(tmp_path):
    """A service test whose first import declares models 1.4-style (plain annotations on SQLAlchemy's
    declarative_base, nothing of openmodule imported yet) still collects: the plugin loads before it."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "legacy_models.py").write_text(
        textwrap.dedent(
            """
            from typing import List
            from sqlalchemy import Column, ForeignKey, Integer
            from sqlalchemy.orm import declarative_base, relationship

            Base = declarative_base()

            class Parent(Base):
                __tablename__ = "parent"
                id = Column(Integer, primary_key=True)
                children: List["Child"] = relationship("Child", back_populates="parent")

            class Child(Base):
                __tablename__ = "child"
                id = Column(Integer, primary_key=True)
                parent_id = Column(Integer, ForeignKey("parent.id"))
                parent = relationship("Parent", back_populates="children")
            """
        )
    )
    (tmp_path / "test_service.py").write_text(
        textwrap.dedent(
            """
            from legacy_models import Child, Parent

            def test_relationship_is_a_collection():
                parent = Parent(children=[Child(), Child()])
                assert len(parent.children) == 2 and parent.children[0].parent is parent
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_test_run_records_the_handlers_it_registers_for_the_schema(om_settings, om_rpc_server):
    """openmodule-test installs Schema as the recorder of the dispatcher and the RPC server."""
    import subprocess
    import sys

    from openmodule.dispatcher import MessageDispatcher, schema_recorder
    from openmodule.models.base import ZMQMessage
    from openmodule.utils.schema import Schema

    class Event(ZMQMessage):
        type: str = "event"

    def on_event(message: Event) -> None:
        """Counts the events."""

    def double(request: Ping, _message: object) -> Pong:
        """Doubles the value."""
        return Pong(value=request.value * 2)

    assert schema_recorder() is Schema
    om_settings(TESTING=True)
    Schema.clear()
    try:
        MessageDispatcher().register_handler("events", Event, on_event)
        om_rpc_server.register_handler("calc", "double-schema", Ping, Pong, double)
        assert "/calc/double-schema" in Schema.rpcs and "/events/on_event" in Schema.messages
    finally:
        Schema.clear()
    # importing any part of openmodule_test installs it, not only loading the plugin
    code = (
        "import openmodule_test.eventlistener; from openmodule.dispatcher import schema_recorder; "
        "from openmodule.utils.schema import Schema; assert schema_recorder() is Schema"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
