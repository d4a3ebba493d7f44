"""The DSGVO config copy: hand the service's config to the DSGVO (privacy) service, atomically."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger("openmodule.core")


def _atomic_copy(source: Path, target: Path) -> None:
    # A unique temporary name per copy (the reference used /data/tmp.yml for everything, so two services
    # starting together could move each other's half-written file); rename is atomic on one file system.
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".yml", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def copy_dsgvo_config(
    data_folder: str | os.PathLike[str] = "/data", working_dir: str | os.PathLike[str] = "."
) -> None:
    """Copy ``<data>/config.yml`` to ``<data>/dsgvo-config.yml`` and ``./dsgvo-default.yml`` to
    ``<data>/dsgvo-default.yml``; does nothing when the data folder does not exist.

    Usage: ``copy_dsgvo_config()`` (``init_openmodule(dsgvo=True)`` calls it).
    """
    data = Path(data_folder)
    if not data.is_dir():
        return
    config = data / "config.yml"
    if config.exists():
        _atomic_copy(config, data / "dsgvo-config.yml")
    default = Path(working_dir) / "dsgvo-default.yml"
    if default.exists():
        _atomic_copy(default, data / "dsgvo-default.yml")
