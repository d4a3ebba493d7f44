"""The table of calls waiting for a response.

Every operation is O(log n) in the number of calls in flight: entries live in a dict keyed by rpc_id and
their deadlines in a heap, so expiry looks only at calls that are due instead of scanning all of them
(the reference scanned every pending entry on every send and receive).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

# How long ids of expired calls are remembered, so a late response can be told apart from a response
# to another client on the same channel (those are normal and ignored silently).
LATE_MEMORY_SECONDS = 300.0


class _Expirable(Protocol):
    @property
    def deadline(self) -> float: ...


K = TypeVar("K", bound=Hashable)
E = TypeVar("E", bound=_Expirable)

LATE = object()
"""Returned by :meth:`PendingCalls.pop` for an id that expired recently (a late response)."""


class PendingCalls(Generic[K, E]):
    """rpc_id -> entry, with deadline-ordered expiry; thread-safe."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        late_memory: float = LATE_MEMORY_SECONDS,
    ) -> None:
        self._clock = clock
        self._late_memory = late_memory
        self._lock = threading.Lock()
        self._entries: dict[K, E] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        # rpc_id -> time it expired; insertion order is expiry order, so the oldest is first.
        self._expired: dict[K, float] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, rpc_id: K) -> bool:
        return rpc_id in self._entries

    @property
    def heap_size(self) -> int:
        """Deadlines still tracked (includes answered calls not yet due; bounded by the timeout window)."""
        return len(self._heap)

    @property
    def expired_size(self) -> int:
        return len(self._expired)

    def add(self, rpc_id: K, entry: E) -> None:
        """Track ``entry`` until it is popped, discarded or its deadline passes."""
        with self._lock:
            self._expire(self._clock())
            self._entries[rpc_id] = entry
            heapq.heappush(self._heap, (entry.deadline, next(self._seq), rpc_id))

    def pop(self, rpc_id: K) -> E | object | None:
        """The entry for ``rpc_id`` (removed), :data:`LATE` if it expired recently, else None."""
        # The answered call, the common case, without the lock: dict.pop is atomic, and an entry
        # expiring at this very moment goes either to us or to _expire(), never to both.
        entry = self._entries.pop(rpc_id, None)
        now = self._clock()
        if entry is not None and entry.deadline > now:
            return entry
        with self._lock:
            if entry is not None:  # due, but not expired yet: as late as if it had been
                self._expired[rpc_id] = now
                return LATE
            self._expire(now)
            if rpc_id in self._expired:
                return LATE
            return None

    def discard(self, rpc_id: K) -> E | None:
        """Stop tracking ``rpc_id`` (cancelled); its heap slot is dropped lazily when due."""
        with self._lock:
            return self._entries.pop(rpc_id, None)

    def drain(self) -> list[E]:
        """Remove and return every pending entry (client shutdown)."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._heap.clear()
            return entries

    def expire(self) -> None:
        """Release every entry whose deadline has passed."""
        with self._lock:
            self._expire(self._clock())

    def _expire(self, now: float) -> None:
        heap = self._heap
        entries = self._entries
        expired = self._expired
        while heap and heap[0][0] <= now:
            _, _, rpc_id = heapq.heappop(heap)
            # Answered or cancelled calls are gone from the dict already: nothing to remember.
            if entries.pop(rpc_id, None) is not None:
                expired[rpc_id] = now
        horizon = now - self._late_memory
        while expired:
            oldest = next(iter(expired))
            if expired[oldest] > horizon:
                break
            del expired[oldest]
