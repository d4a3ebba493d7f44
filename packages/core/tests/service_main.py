"""A minimal service for the subprocess tests: prints READY, blocks on "block" messages, exits on SIGTERM."""

from __future__ import annotations

import threading
import time
import types

from openmodule.config import settings
from openmodule.core import core, init_openmodule, shutdown_openmodule
from openmodule.models.base import ZMQMessage


class BlockMessage(ZMQMessage):
    type: str = "block"


def main() -> None:
    settings.configure(types.ModuleType("config"))  # everything from the environment
    started = time.monotonic()
    release = threading.Event()
    init_openmodule(settings, dsgvo=False)

    def on_block(message: BlockMessage) -> None:
        """Blocks the user dispatcher until the process ends."""
        print("BLOCKING", flush=True)
        release.wait(60)

    try:  # from here on SIGTERM arrives as KeyboardInterrupt
        core().messages.register_handler("block", BlockMessage, on_block, register_schema=False)
        print(f"READY {time.monotonic() - started:.4f}", flush=True)
        while True:
            time.sleep(0.05)
    except KeyboardInterrupt:
        print("KeyboardInterrupt: shutting down", flush=True)
    finally:
        release.set()
        shutdown_openmodule()
        alive = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
        openmodule_threads = [t.name for t in threading.enumerate() if t.name.startswith("openmodule")]
        print(f"THREADS {alive} {openmodule_threads}", flush=True)
        print("EXITED", flush=True)


if __name__ == "__main__":
    main()
