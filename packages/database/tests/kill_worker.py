"""Zygote for test_kill: imports everything once, then forks one writer per round (the test SIGKILLs it).

stdin: one line per round "<round>"; stdout: "ready <round> <pid>", "committed <n> <rows>", "reaped <round>".
The zygote never opens the database itself, so forking is safe.
"""

import os
import sys

from sqlalchemy import text

import openmodule.database.migration  # noqa: F401 - preloaded so each forked writer starts fast
from openmodule.database import Database


def writer(folder: str, alembic: str, rnd: int) -> None:
    db = Database(folder, "kill", alembic, main_process_migration=True)
    print(f"ready {rnd} {os.getpid()}", flush=True)
    n = rnd * 100000
    while True:
        rows = 5 if n % 3 == 0 else 1  # multi-row transactions must be all-or-nothing
        with db as session:
            for j in range(rows):
                session.execute(
                    text("INSERT INTO vehicle (id, plate, data) VALUES (:id, :plate, :data)"),
                    {"id": n * 10 + j, "plate": f"P{n}-{j}", "data": b'{"n":%d}' % n},
                )
        print(f"committed {n} {rows}", flush=True)
        n += 1


def main() -> None:
    folder, alembic = sys.argv[1], sys.argv[2]
    for line in sys.stdin:
        rnd = int(line)
        pid = os.fork()
        if pid == 0:
            try:
                writer(folder, alembic, rnd)
            finally:
                os._exit(1)
        os.waitpid(pid, 0)
        print(f"reaped {rnd}", flush=True)


if __name__ == "__main__":
    main()
