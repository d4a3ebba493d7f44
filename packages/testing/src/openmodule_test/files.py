"""File helpers for tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["temp_file"]


@contextmanager
def temp_file(content: str) -> Iterator[str]:
    """Write ``content`` to a fresh temporary file, yield its path, delete it afterwards.

    Usage: ``with temp_file("a: 1") as path: config.yaml(Model, path)``
    """
    fd, path = tempfile.mkstemp()
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
        yield path
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
