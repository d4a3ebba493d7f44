from __future__ import annotations

import os
import runpy
import warnings
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import zmq
from pydantic import BaseModel, ConfigDict

from openmodule.broker import BrokerProcess
from openmodule.config import settings
from openmodule.database import Database
from openmodule.messaging import MessageLoop, Publisher, set_running_core, wait_for_connection
from openmodule.rpc import RPCClient, RPCServer

HERE = os.path.dirname(os.path.abspath(__file__))
ALEMBIC = os.path.join(HERE, "kv_database")


class RawAnswer(BaseModel):
    """The server side's answers go on the wire as they are."""

    model_config = ConfigDict(extra="allow")


@pytest.fixture(autouse=True)
def clean_settings(om_clean_settings: None) -> Iterator[None]:
    """Every test starts without service environment variables, with settings reset."""
    yield
    set_running_core(None)  # a running core registered by the test must not reach the next one


@pytest.fixture(scope="session")
def models() -> dict[str, Any]:
    return runpy.run_path(os.path.join(ALEMBIC, "models.py"))


@pytest.fixture
def database(tmp_path) -> Iterator[Database]:
    """A real SQLite file migrated with the real alembic revision."""
    db = Database(str(tmp_path), "kv_test", alembic_path=ALEMBIC, main_process_migration=True)
    yield db
    db.shutdown()


@pytest.fixture
def bus(om_broker_process: BrokerProcess, om_zmq_context: zmq.Context) -> Iterator[SimpleNamespace]:
    """On the real broker: the service's ``rpc_server`` (running), an RPC ``client`` (playing the cloud for
    ``kv_sync``, and the service's client for ``rpc-websocket``), and ``cloud``, an RPCServer of ours that
    answers ``rpc-websocket``/``server_rpc`` with ``cloud_answer(request)``."""
    config = SimpleNamespace(
        NAME="om_kv_test_1",
        RESOURCE="test-resource",
        TESTING=False,
        BROKER_SUB=om_broker_process.sub_endpoint,
        BROKER_PUB=om_broker_process.pub_endpoint,
    )
    settings.configure(config)
    publisher = Publisher(om_zmq_context, config)
    loop = MessageLoop(om_zmq_context, config, name="kv-test").start()
    wait_for_connection(publisher, loop, timeout=10)
    rpc_server = RPCServer(om_zmq_context, filter_resource=False)
    cloud = RPCServer(om_zmq_context, filter_resource=False)
    ns = SimpleNamespace(cloud_requests=[], cloud_answer=lambda request: {})

    def server_rpc(request: Any) -> Any:
        """The cloud relay"""
        ns.cloud_requests.append(request)
        return ns.cloud_answer(request)

    from openmodule.models.rpc import ServerRPCRequest

    cloud.register_handler("rpc-websocket", "server_rpc", ServerRPCRequest, RawAnswer, server_rpc)
    cloud.run_as_thread()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client = RPCClient(loop.dispatcher, publisher.publish, default_timeout=10)
    ns.rpc_server, ns.client, ns.config = rpc_server, client, config
    yield ns
    client.shutdown()
    rpc_server.shutdown()
    cloud.shutdown()
    loop.stop()
    publisher.close(0)
