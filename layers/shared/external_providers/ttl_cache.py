"""A small in-memory cache whose entries expire after a time and whose size is bounded."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Maps keys to values for `ttl_seconds` each, keeping at most `max_entries`.

    When full, it drops the least recently used entry. `ttl_seconds` may be 0 (nothing is
    kept) or `math.inf` (entries expire only when dropped). `clock` returns seconds and
    only its differences matter, so `time.monotonic` is the default. One lock guards the
    entries, so threads may share a cache.
    """

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must be 0 or more, got {ttl_seconds}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be 1 or more, got {max_entries}")
        self._ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """Return the value stored under `key`, or None when it is missing or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None

            expires_at, value = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                return None

            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V, ttl_seconds: float | None = None) -> None:
        """Store `value` under `key` for `ttl_seconds`, the cache's TTL by default."""
        ttl = self._ttl_seconds if ttl_seconds is None else ttl_seconds
        with self._lock:
            if ttl <= 0:
                self._entries.pop(key, None)
                return

            expires_at = math.inf if math.isinf(ttl) else self._clock() + ttl
            self._entries[key] = (expires_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget the entry under `key`, if any."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
