"""Presence simulator: plays the camera/presence service of one gate, publishing enter and leave messages.

Each vehicle enters (``PresenceEnterMessage`` on topic ``presence``), stays ``--dwell`` seconds and leaves
(``PresenceLeaveMessage``). Every third vehicle (the 2nd, 5th, ...) carries a plate no whitelist knows, and
some plates are misread the way cameras do (``0`` for ``O``), so the gate's fuzzy matching has work to do.

Run it (configured from the environment: NAME, BROKER_SUB, BROKER_PUB)::

    python examples/presence_sim/presence_sim.py --vehicles 3 --gate gate_in

It is a publisher only: it uses the core for its PUB socket and exits when all vehicles have left.
"""

from __future__ import annotations

import argparse
import time
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from openmodule.config import settings
from openmodule.core import init_openmodule, shutdown_openmodule
from openmodule.models.base import Direction, Gateway
from openmodule.models.presence import PresenceEnterMessage, PresenceLeaveMessage, PresenceMedia
from openmodule.models.vehicle import LPRCountry, LPRMedium

# Plates as the camera reads them (misreads included); the gate's whitelist has the correct spelling.
KNOWN_READS = ["GARIV01", "W 12345 B", "L777XV", "S-4711 K", "K 100 AA"]


def plate_for(index: int) -> str:
    """The plate of the ``index``-th vehicle: every third one (index 1, 4, ...) is a stranger."""
    if index % 3 == 1:
        return f"X {900 + index} ZZ"
    return KNOWN_READS[index % len(KNOWN_READS)]


def presence_messages(
    index: int, gate: str, *, enter_time: datetime | None = None
) -> tuple[PresenceEnterMessage, PresenceLeaveMessage]:
    """The enter and the leave message of the ``index``-th vehicle."""
    now = enter_time or datetime.now(UTC)
    vehicle_id = int(now.timestamp() * 1e9) + index  # ids are entry times in ns; +index keeps them unique
    fields: dict[str, Any] = dict(
        name=settings.NAME,
        vehicle_id=vehicle_id,
        source=gate,
        present_area_name=f"{gate}-area",
        last_update=now,
        gateway=Gateway(gate=gate, direction=Direction.IN),
        medium=PresenceMedia(
            lpr=LPRMedium(id=plate_for(index), country=LPRCountry(code="A"), confidence=0.9)
        ),
    )
    return PresenceEnterMessage(**fields), PresenceLeaveMessage(**fields)


def simulate(
    publish: Callable[[Any, str], None], vehicles: int, gate: str, dwell: float, gap: float
) -> Iterator[tuple[str, int]]:
    """Publish ``vehicles`` enter/leave pairs; yields ``("enter"|"leave", vehicle_id)`` after each send."""
    for index in range(vehicles):
        enter, leave = presence_messages(index, gate)
        publish(enter, "presence")
        yield "enter", enter.vehicle_id
        time.sleep(dwell)  # the vehicle stands in front of the barrier
        publish(leave, "presence")
        yield "leave", leave.vehicle_id
        time.sleep(gap)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vehicles", type=int, default=3)
    parser.add_argument("--gate", default="gate_in")
    parser.add_argument("--dwell", type=float, default=0.3, help="seconds between enter and leave")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between two vehicles")
    args = parser.parse_args(argv)
    if not settings.configured:
        settings.configure(types.ModuleType("config"))  # everything from the environment
    om = init_openmodule(settings, dsgvo=False, sentry=False)
    try:
        for event, vehicle_id in simulate(om.publish, args.vehicles, args.gate, args.dwell, args.gap):
            print(f"SENT {event} {vehicle_id}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        shutdown_openmodule()  # closes the PUB socket with linger: queued messages still go out


if __name__ == "__main__":
    main()
