"""openmodule.threading: the crash policy of openmodule threads.

Usage::

    from openmodule.threading import get_thread_wrapper

    threading.Thread(target=get_thread_wrapper(worker.run), daemon=True).start()

A thread that dies of an unexpected exception leaves a service half-alive (no more messages on that
socket, health still answering), so the wrapper prints the traceback and ends the whole process; the
supervisor restarts it.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from openmodule.config import is_testing

__all__ = ["get_thread_wrapper"]

P = ParamSpec("P")
R = TypeVar("R")


def _quiet_exceptions() -> tuple[type[BaseException], ...]:
    quiet: list[type[BaseException]] = [KeyboardInterrupt]
    try:  # pyzmq is optional for this module
        import zmq

        quiet.append(zmq.ContextTerminated)
    except ImportError:  # pragma: no cover
        pass
    return tuple(quiet)


def get_thread_wrapper(function: Callable[P, R], return_code: int = 10) -> Callable[P, R | None]:
    """Wrap ``function`` so an unexpected exception ends the process with ``return_code`` (default 10).

    ``KeyboardInterrupt`` and ``zmq.ContextTerminated`` end the thread quietly. Any other exception writes
    its traceback to stderr (with TESTING set: to ``thread_wrapper_error.log`` in the working directory,
    because test runners capture stderr), waits 1 s so logs flush, and hard-exits the process.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return function(*args, **kwargs)
        except _quiet_exceptions():
            return None
        except BaseException:
            text = f"thread {threading.current_thread().name} crashed:\n{traceback.format_exc()}"
            if is_testing():
                try:
                    with open("thread_wrapper_error.log", "a") as f:
                        f.write(text)
                except OSError:
                    sys.stderr.write(text)
            else:
                sys.stderr.write(text)
            sys.stderr.flush()
            time.sleep(1)
            os._exit(return_code)

    return wrapper
