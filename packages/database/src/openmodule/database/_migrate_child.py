"""Child process of ``Database``: ``python -m openmodule.database._migrate_child <request.json>``."""

from __future__ import annotations

import json
import sys
import traceback


def main(request_file: str) -> int:
    with open(request_file) as f:
        request = json.load(f)
    # the parent's import path, so the service's env.py finds its models like the parent would
    sys.path[:0] = [p for p in request["sys_path"] if p not in sys.path]
    from openmodule.database.errors import MigrationError
    from openmodule.database.migration import upgrade_database_file

    try:
        result = upgrade_database_file(
            request["path"], request["alembic_path"], backup_note=request["backup_note"]
        )
        payload = {"status": "ok", **result}
        code = 0
    except MigrationError as e:
        payload = {"status": "error", "error": type(e).__name__, "message": str(e), "restored": e.restored}
        code = 2
    except BaseException as e:
        payload = {
            "status": "error",
            "error": "MigrationError",
            "message": f"Migration crashed: {e!r}\n{traceback.format_exc()}",
        }
        code = 1
    with open(request["result"], "w") as f:
        json.dump(payload, f)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
