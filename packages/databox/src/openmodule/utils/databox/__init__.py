"""openmodule.utils.databox: hand files over to the databox service.

The databox service uploads whatever appears in its upload folder, which services mount at
``settings.DATABOX_UPLOAD_DIR`` (default ``/upload``). ``upload`` moves a file there atomically: the data is
written to a hidden temporary file inside the target folder, flushed to disk and then renamed, so the databox
never picks up a partial file.

Usage::

    from openmodule.utils.databox import upload

    upload("/tmp/asdf.txt", "/enforcement/test/asdf.txt")
    upload("/tmp/bsdf.csv", "exports/")  # -> exports/bsdf.csv
"""

from __future__ import annotations

from openmodule.utils.databox._upload import (
    DataboxError,
    SourceFileError,
    UnsafeDestinationError,
    get_default_rpc_client,
    resolve_destination,
    set_default_rpc_client,
    upload,
)

__all__ = [
    "DataboxError",
    "SourceFileError",
    "UnsafeDestinationError",
    "get_default_rpc_client",
    "resolve_destination",
    "set_default_rpc_client",
    "upload",
]
