"""Swap ``<upload>/<name>`` for a symlink to ``<outside>`` and back in a loop until ``<stop>`` exists (run as a
process of its own by the race test: an attacker with write access to the upload folder)."""

from __future__ import annotations

import os
import sys


def main(upload: str, name: str, outside: str, stop: str, ready: str) -> None:
    folder = os.path.join(upload, name)
    parked = os.path.join(upload, f"{name}.parked")
    swaps = 0
    open(ready, "w").close()
    while not os.path.exists(stop):
        try:
            os.rename(folder, parked)
            os.symlink(outside, folder)
            os.unlink(folder)
            os.rename(parked, folder)
            swaps += 1
        except OSError:
            # the uploader created the folder again in between: tidy up (inside the upload folder) and go on
            if os.path.islink(folder):
                os.unlink(folder)
            if os.path.isdir(parked):
                if os.path.exists(folder):
                    os.rename(parked, f"{parked}.{swaps}.{os.getpid()}.{len(os.listdir(upload))}")
                else:
                    os.rename(parked, folder)
    print(swaps)


if __name__ == "__main__":
    main(*sys.argv[1:6])
