"""Run a service's main in a child process, signal it, and assert it shuts down cleanly."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import multiprocessing
import multiprocessing.context
import multiprocessing.queues
import os
import signal as _signal
import tempfile
import time
import unittest
import warnings
from collections.abc import Callable
from typing import Any

from openmodule_test.health import HealthTestMixin
from openmodule_test.utils import DeveloperError
from openmodule_test.zeromq import ZMQProtocol

__all__ = ["ChildProcess", "InterruptTestMixin", "MainTestMixin"]

# fork keeps test-local functions usable as targets (pytest's importlib mode makes them unpicklable).
_mp = multiprocessing.get_context("fork")


# On a hang the parent asks the child for its threads' stacks before killing it (not on Windows).
_STACKS_SIGNAL = getattr(_signal, "SIGUSR1", None)


def _child(function: Callable[[], Any], finished: Any, log_queue: Any, stacks_path: str) -> None:
    if _STACKS_SIGNAL is not None:
        # faulthandler writes from C inside the signal handler, so this works while Python is stuck.
        faulthandler.register(_STACKS_SIGNAL, file=open(stacks_path, "w"), all_threads=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.handlers.QueueHandler(log_queue))
    try:
        function()
    except KeyboardInterrupt:
        logging.getLogger("openmodule_test.interrupt").info("KeyboardInterrupt in child process")
        finished.set()
        return
    finished.set()


class ChildProcess:
    """A child running a function; ``finished`` is set when the function returned normally."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.finished = _mp.Event()
        self.log_queue: multiprocessing.queues.Queue[logging.LogRecord] = _mp.Queue()
        fd, self.stacks_path = tempfile.mkstemp(prefix="om-child-stacks-", suffix=".txt")
        os.close(fd)
        self.process = _mp.Process(
            target=_child, args=(function, self.finished, self.log_queue, self.stacks_path), daemon=True
        )
        #: The child's log records as they arrived in this process (see ``output()``).
        self.records: list[logging.LogRecord] = []
        self.listener = logging.handlers.QueueListener(
            self.log_queue, _ForwardToLogging(), _Collect(self.records), respect_handler_level=False
        )
        self._listening = False

    def start(self) -> None:
        self.listener.start()
        self._listening = True
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork in a process with threads; the child only runs the service.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self._stop_listener()
        try:
            os.unlink(self.stacks_path)
        except OSError:
            pass

    def _stop_listener(self) -> None:
        if self._listening:
            self._listening = False
            try:
                self.listener.stop()  # handles every record still queued
            except Exception:  # pragma: no cover - the queue may be broken by a killed child
                pass

    def output(self) -> str:
        """The child's log as ``LEVEL:logger:message`` lines; complete once the child has ended."""
        if not self.process.is_alive():
            self._stop_listener()
        return "\n".join(f"{r.levelname}:{r.name}:{r.getMessage()}" for r in list(self.records))

    def dump_stacks(self, wait: float = 2.0) -> str:
        """The Python stacks of all the child's threads, asked for with a signal ("" if it cannot tell)."""
        if _STACKS_SIGNAL is None or not self.is_alive() or self.pid is None:
            return ""
        os.kill(self.pid, _STACKS_SIGNAL)
        deadline = time.monotonic() + wait
        text = previous = ""
        while time.monotonic() < deadline:
            time.sleep(0.05)
            with open(self.stacks_path) as stacks:
                text = stacks.read()
            if text and text == previous:  # written and no longer growing
                break
            previous = text
        return text

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.is_alive()


class _ForwardToLogging(logging.Handler):
    """Re-emits a child's log records in the parent, so ``assertLogs`` and pytest's caplog see them."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class InterruptTestMixin(unittest.TestCase):
    """Start ``main`` functions in child processes and check that they shut down cleanly on a signal.

    Usage::

        class MainTest(InterruptTestMixin):
            def test_sigint(self):
                process = self.start_process(main)
                ...
                self.send_signal_to_process(process, signal.SIGINT)
                self.assertCleanShutdown(process)
    """

    def setUp(self) -> None:
        super().setUp()
        self._children: list[ChildProcess] = []
        self.addCleanup(self._stop_children)

    def _stop_children(self) -> None:
        for child in self._children:
            child.stop()

    def start_process(self, function: Callable[[], Any]) -> ChildProcess:
        """Run ``function`` in a child process; its log records are forwarded to this process."""
        child = ChildProcess(function)
        child.start()
        self._children.append(child)
        return child

    def send_signal_to_process(self, process: ChildProcess, signal: int | type[BaseException]) -> None:
        """Send ``signal`` (or SIGINT for ``KeyboardInterrupt``) to a running child."""
        if signal is KeyboardInterrupt:
            signal = _signal.SIGINT
        if not isinstance(signal, int):
            raise DeveloperError(
                f"send_signal_to_process takes a signal number or KeyboardInterrupt, not {signal!r}"
            )
        if process.finished.is_set() or not process.is_alive():
            raise AssertionError("the process has already finished before the signal was sent")
        assert process.pid is not None
        os.kill(process.pid, signal)

    def assertCleanShutdown(self, process: ChildProcess, shutdown_timeout: float = 3.0) -> None:
        """The child finished its function within ``shutdown_timeout`` seconds and exited."""
        deadline = time.monotonic() + shutdown_timeout
        while time.monotonic() < deadline and not process.finished.is_set():
            if not process.is_alive():
                break
            time.sleep(0.01)
        if process.finished.is_set():
            process.process.join(max(0.1, deadline - time.monotonic()) + 2)
            return
        if process.is_alive():
            stacks = process.dump_stacks()
            process.process.kill()
            process.process.join(5)
            where = f"; its threads were at:\n{stacks}" if stacks else ""
            raise TimeoutError(
                f"Process took to long for shutdown: it did not finish within {shutdown_timeout:g} s and was "
                f"killed{where}"
            )
        raise AssertionError(
            f"Process did not finish gracefully: it ended (exit code {process.process.exitcode}) before its "
            "function returned (an uncaught exception, or a signal it does not handle)"
        )

    def wait_for_setup(self, process: ChildProcess, timeout: float = 3.0) -> None:
        """Deprecated (12.x): give the child ``timeout`` s to set up; returns early if it ends."""
        process.process.join(timeout)

    def signal_in_function(
        self,
        function: Callable[[], Any],
        signal: int | type[BaseException],
        *,
        raise_exception_after: float = 3.0,
        shutdown_timeout: float = 3.0,
    ) -> str:
        """Deprecated (12.x): run ``function`` in a child, signal it after ``raise_exception_after`` s and
        assert a clean shutdown within ``shutdown_timeout`` s; returns the child's log (``output()``).

        Prefer ``start_process`` + ``send_signal_to_process`` + ``assertCleanShutdown`` with a readiness
        check of your own (e.g. ``wait_for_health``) instead of a fixed delay.
        """
        warnings.warn(
            "signal_in_function is deprecated: use start_process, send_signal_to_process and assertCleanShutdown",
            DeprecationWarning,
            stacklevel=2,
        )
        process = self.start_process(function)
        self.wait_for_setup(process, raise_exception_after)
        if not process.is_alive():
            if process.finished.is_set():
                raise AssertionError(
                    f"the function returned within {raise_exception_after:g} s, before the signal could be sent"
                    f"\n{process.output()}"
                )
            self.assertCleanShutdown(process, shutdown_timeout)  # reports how it ended
        self.send_signal_to_process(process, signal)
        self.assertCleanShutdown(process, shutdown_timeout)
        return process.output()


class MainTestMixin(HealthTestMixin, InterruptTestMixin):
    """Health over TCP plus child-process helpers (also importable from ``openmodule_test.main``).

    Usage::

        class MainTest(MainTestMixin):
            def test_shutdown(self):
                with self.assertLogs() as logs:
                    process = self.start_process(main)
                    self.wait_for_health("om_my_service_1")
                    self.send_signal_to_process(process, signal.SIGINT)
                    self.assertCleanShutdown(process)
                self.assertIn("KeyboardInterrupt", "\\n".join(logs.output))
    """

    topics = ["healthpong"]
    protocol = ZMQProtocol.TCP

    def tearDown(self) -> None:
        from openmodule.core import core_or_none, shutdown_openmodule

        if core_or_none() is not None:
            shutdown_openmodule()
        super().tearDown()
