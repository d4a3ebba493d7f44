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

from openmodule_test.utils import DeveloperError

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
        self.listener = logging.handlers.QueueListener(
            self.log_queue, _ForwardToLogging(), respect_handler_level=False
        )

    def start(self) -> None:
        self.listener.start()
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork in a process with threads; the child only runs the service.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        try:
            self.listener.stop()
        except Exception:  # pragma: no cover - the queue may be broken by a killed child
            pass
        try:
            os.unlink(self.stacks_path)
        except OSError:
            pass

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
            raise TimeoutError(f"process did not shut down within {shutdown_timeout}s and was killed{where}")
        raise AssertionError(f"process died without finishing cleanly (exit code {process.process.exitcode})")
