"""Gate service: decides whether a vehicle may enter, by fuzzy-matching its plate against a whitelist.

Serves the RPC ``gate`` / ``access_check`` (``AccessCheckRequest`` -> ``AccessCheckResponse``). The plate read
by the camera is matched with ``openmodule.utils.matching`` (plate schemes + edit distance 1), so a misread
``GARIV01`` still finds ``G ARIVO 1``.

Run it (configured from the environment: NAME, BROKER_SUB, BROKER_PUB, ...)::

    python examples/gate/gate.py

Copy this folder as the template of an RPC service.
"""

from __future__ import annotations

import os
import tempfile
import time
import types
from typing import Any

from openmodule.config import settings
from openmodule.core import init_openmodule, shutdown_openmodule
from openmodule.health import HealthResult, health_ok
from openmodule.models.base import OpenModuleModel
from openmodule.rpc import RPCServer
from openmodule.utils.matching import MatchingConfig, PlateYamlSelector

CHANNEL = "gate"

# The whitelist: plate -> customer. A real service would load it from its database or the backend.
WHITELIST = {
    "G ARIVO 1": "arivo",
    "W 12345 B": "acme",
    "L 777 XY": "acme",
    "S 4711 K": "city",
    "K 100 AA": "city",
}


class AccessCheckRequest(OpenModuleModel):
    """The plate read at the gate."""

    plate: str
    country: str = "A"
    gate: str = ""


class AccessCheckResponse(OpenModuleModel):
    """``access`` is granted when the plate matches a whitelisted one (then ``matched_plate`` and
    ``customer`` are set)."""

    access: bool
    matched_plate: str | None = None
    customer: str | None = None


class Gate:
    """The access decision, independent of the bus so it can be tested on its own.

    Usage: ``Gate().check(AccessCheckRequest(plate="GARIV01"))``
    """

    def __init__(self, whitelist: dict[str, str] | None = None, edit_distance: int = 1) -> None:
        # No scheme files on a dev machine: an empty folder means "use the built-in schemes".
        self._schemes = tempfile.TemporaryDirectory(prefix="gate-schemes-")
        self.config = MatchingConfig(
            directory=self._schemes.name, default_country_order=["A"], edit_distance=edit_distance
        )
        self.selector = PlateYamlSelector.from_config(self.config)
        self.db: dict[str, Any] = {}
        self.checks = 0
        for plate, customer in (whitelist if whitelist is not None else WHITELIST).items():
            self.selector.insert_into_db_and_create_record(
                self.db, plate, "A", "DEFAULT", 10, id=plate, customer=customer
            )

    def check(self, request: AccessCheckRequest) -> AccessCheckResponse:
        """Checks whether the plate may enter (this docstring becomes the RPC's schema description)."""
        self.checks += 1
        plate = self.selector.create_plate_for_matching(request.plate, country=request.country)
        buckets = self.selector.match_plate(
            plate,
            self.db,
            use_alternatives=self.config.use_alternatives,
            max_ed=self.config.edit_distance,
            return_only_best=self.config.only_best,
        )
        best = buckets[0][0] if buckets and buckets[0] else None
        if best is None:
            return AccessCheckResponse(access=False)
        return AccessCheckResponse(access=True, matched_plate=best["plate"], customer=best["customer"])

    def health(self) -> HealthResult:
        """Reported with every health pong."""
        return health_ok(meta={"checks": self.checks, "whitelist": len(WHITELIST)})

    def close(self) -> None:
        self._schemes.cleanup()


def register(server: RPCServer, gate: Gate) -> None:
    """Serve ``gate``/``access_check`` on ``server`` (separate from main() so tests can use it)."""
    server.register_handler(
        CHANNEL,
        "access_check",
        request_class=AccessCheckRequest,
        response_class=AccessCheckResponse,
        handler=gate.check,
    )


def main() -> None:
    if not settings.configured:
        settings.configure(types.ModuleType("config"))  # everything from the environment
    gate = Gate()
    om = init_openmodule(settings, dsgvo=False, sentry=False, health_handler=gate.health)
    # The RPC server has its own SUB socket and thread; it answers through the core's PUB socket.
    server = RPCServer(context=om.context, publish=om.publish)
    try:  # from here on SIGTERM arrives as KeyboardInterrupt
        register(server, gate)
        server.run_as_thread()
        print(f"READY {settings.NAME} pid={os.getpid()}", flush=True)
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        shutdown_openmodule()
        gate.close()


if __name__ == "__main__":
    main()
