"""Open a Database in a process of its own and print what happened as JSON (the read-only tests run it
without the root privilege that ignores file modes)."""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    folder, alembic, mode = sys.argv[1:4]
    os.environ["TESTING"] = "1"
    from openmodule.database import Database

    try:
        db = Database(folder, "svc", alembic_path=alembic, main_process_migration=mode == "main")
    except Exception as e:
        print(
            json.dumps(
                {"error": type(e).__name__, "message": str(e), "permission": isinstance(e, PermissionError)}
            )
        )
        return
    db.shutdown()
    print(json.dumps({"error": None}))


if __name__ == "__main__":
    main()
