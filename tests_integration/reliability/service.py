"""The service the reliability scenarios run as a real subprocess, built on the public API only.

Configured from the environment (NAME, AUTH_RESOURCE, BROKER_SUB, BROKER_PUB, TESTING, LOG_LEVEL). It serves:

* RPC channel ``rel``: ``echo`` (returns the value with this service's NAME and RESOURCE), ``release``
  (ends every blocking handler), ``stats`` (drop counters, RPC server counts, RSS);
* RPC channel ``rel_slow``: ``block`` (blocks until ``release`` or 30 s);
* RPC channel ``flood``: ``echo`` (a target for invalid request envelopes, so their validation_error
  replies go to ``rpc-rep-flood`` and not to the probing client on ``rel``), ``slow`` (5 ms of work: a
  flood of it outruns the executor);
* RPC channel ``odd``: ``model`` (its request model raises something odd for some values: ``KeyError``,
  ``RecursionError`` from real recursion, an exception that cannot be shown), ``handler`` (the handler
  raises those, or returns something that is no response);
* user messages: ``rel_block`` (blocks the user loop until ``release``), ``rel_work`` (20 ms of work each,
  then prints ``WORK <i>``; keeps the service busy), ``rel_msg`` (a model with required fields, a target
  for invalid messages), ``rel_slowmsg`` (5 ms of work each, silently), ``rel_odd`` (the oddities of the
  ``odd`` channel, for the user loop).

``REL_DISPATCHER_THREADS`` (default 1) is passed to ``init_openmodule(dispatcher_max_threads=...)``.

Prints ``READY`` when started, ``SHUTDOWN <signal>`` when interrupted and ``EXITED`` as its last line.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor

from pydantic import field_validator

from openmodule.config import settings
from openmodule.core import core, init_openmodule, shutdown_openmodule
from openmodule.messaging import receive_drops
from openmodule.models.base import OpenModuleModel, ZMQMessage
from openmodule.rpc import RPCServer

release = threading.Event()


class EchoRequest(OpenModuleModel):
    value: str = ""


class EchoResponse(OpenModuleModel):
    value: str
    name: str
    resource: str


class EmptyRequest(OpenModuleModel):
    pass


class BlockResponse(OpenModuleModel):
    released: bool


class StatsResponse(OpenModuleModel):
    message_drops: dict[str, int]
    receive_drops: dict[str, int]
    rpc_counts: dict[str, int]
    rss_kb: int
    internal_drops: dict[str, int] = {}
    queued: int = 0


class Unprintable(Exception):
    """An exception that cannot be shown: its str() and repr() raise."""

    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def recurse(depth: int = 0) -> int:
    return recurse(depth + 1) + 1


def be_odd(what: str) -> None:
    """Raise something odd for ``what`` (nothing for other values)."""
    if what == "key":
        raise KeyError(what)
    if what == "recursion":
        recurse()
    if what == "unprintable":
        raise Unprintable()


class OddRequest(OpenModuleModel):
    value: str = ""

    @field_validator("value")
    @classmethod
    def _odd(cls, value: str) -> str:
        be_odd(value)
        return value


class OddMessage(ZMQMessage):
    type: str = "odd"
    value: str = ""  # the handler raises for it
    model_value: str = ""  # the model raises for it

    @field_validator("model_value")
    @classmethod
    def _odd(cls, value: str) -> str:
        be_odd(value)
        return value


class WorkMessage(ZMQMessage):
    type: str = "work"
    i: int = 0


class RelMessage(ZMQMessage):
    type: str = "rel"
    count: int
    label: str


def say(line: str) -> None:
    """One write per line: stdout and the log (stderr) share one file, and print() writes the text and
    the newline separately, so a log line could land in between."""
    os.write(1, (line + "\n").encode())


def rss_kb() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    settings.configure(types.ModuleType("config"))  # everything from the environment
    interrupted = {"signal": "SIGTERM"}

    def on_sigint(signum: int, frame: object) -> None:
        interrupted["signal"] = "SIGINT"
        raise KeyboardInterrupt("SIGINT")

    signal.signal(signal.SIGINT, on_sigint)
    init_openmodule(
        settings,
        dsgvo=False,
        sentry=False,
        dispatcher_max_threads=int(os.environ.get("REL_DISPATCHER_THREADS", "1")),
    )
    server = RPCServer(
        context=core().context,
        publish=core().publish,
        executor=ThreadPoolExecutor(max_workers=4, thread_name_prefix="rel-rpc"),
    )

    def echo(request: EchoRequest) -> EchoResponse:
        """Returns the value with the NAME and RESOURCE of this service."""
        return EchoResponse(value=request.value, name=settings.NAME, resource=settings.RESOURCE)

    def block(request: EmptyRequest) -> BlockResponse:
        """Blocks until released."""
        say("RPC BLOCKING")
        return BlockResponse(released=release.wait(30))

    def do_release(request: EmptyRequest) -> BlockResponse:
        """Ends every blocking handler."""
        release.set()
        return BlockResponse(released=True)

    def stats(request: EmptyRequest) -> StatsResponse:
        """Counters of dropped input and the resident memory."""
        return StatsResponse(
            message_drops=core().messages.drops.snapshot(),
            receive_drops=receive_drops.snapshot(),
            rpc_counts=dict(server.counts),
            rss_kb=rss_kb(),
            internal_drops=core()._messages_internal.drops.snapshot(),
            # (getattr: the scenarios also run against releases without bounded queues, for comparison)
            queued=getattr(core().messages, "queued", 0)
            + getattr(getattr(server, "_bounded", None), "pending", 0),
        )

    def slow(request: EchoRequest) -> EchoResponse:
        """5 ms of work."""
        time.sleep(0.005)
        return echo(request)

    def odd_model(request: OddRequest) -> EchoResponse:
        """The request model raised already if the value asked for it."""
        return EchoResponse(value=request.value, name=settings.NAME, resource=settings.RESOURCE)

    def odd_handler(request: EchoRequest) -> EchoResponse:
        """Raises something odd, or returns something that is no response."""
        if request.value == "not-a-response":
            return object()  # type: ignore[return-value]
        be_odd(request.value)
        return echo(request)

    def on_block(message: ZMQMessage) -> None:
        """Blocks the user loop until released."""
        say("USER BLOCKING")
        release.wait(30)

    def on_work(message: WorkMessage) -> None:
        """A little work per message."""
        time.sleep(0.02)
        say(f"WORK {message.i}")

    def on_rel(message: RelMessage) -> None:
        """Accepts valid messages only (the flood sends invalid ones)."""

    def on_slow(message: ZMQMessage) -> None:
        """5 ms of work."""
        time.sleep(0.005)

    def on_odd(message: OddMessage) -> None:
        """Raises something odd."""
        be_odd(message.value)
        say(f"ODD OK {message.value}")

    try:  # from here on SIGTERM/SIGINT arrive as KeyboardInterrupt
        server.register_handler("rel", "echo", EchoRequest, EchoResponse, echo)
        server.register_handler("rel", "release", EmptyRequest, BlockResponse, do_release)
        server.register_handler("rel", "stats", EmptyRequest, StatsResponse, stats)
        server.register_handler("rel_slow", "block", EmptyRequest, BlockResponse, block)
        server.register_handler("flood", "echo", EchoRequest, EchoResponse, echo)
        server.register_handler("flood", "slow", EchoRequest, EchoResponse, slow)
        server.register_handler("odd", "model", OddRequest, EchoResponse, odd_model)
        server.register_handler("odd", "handler", EchoRequest, EchoResponse, odd_handler)
        server.run_as_thread()
        core().messages.register_handler("rel_block", ZMQMessage, on_block, match_type=False)
        core().messages.register_handler("rel_work", WorkMessage, on_work)
        core().messages.register_handler("rel_msg", RelMessage, on_rel)
        core().messages.register_handler("rel_slowmsg", ZMQMessage, on_slow, match_type=False)
        core().messages.register_handler("rel_odd", OddMessage, on_odd)
        say(f"READY pid={os.getpid()}")
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        say(f"SHUTDOWN {interrupted['signal']}")
    finally:
        release.set()  # a blocked handler must not hold up the shutdown
        server.shutdown()
        shutdown_openmodule()
        say("EXITED")


if __name__ == "__main__":
    main()
