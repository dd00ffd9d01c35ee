"""The TTL cache: expiry by an injected clock, size bound, and TTLs of 0 and infinity."""

from __future__ import annotations

import math

import pytest

from external_providers.ttl_cache import TtlCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entry_expires_after_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(5, 10, clock)
    cache.put("a", 1)

    clock.now += 4.9
    assert cache.get("a") == 1

    clock.now += 0.1
    assert cache.get("a") is None
    assert len(cache) == 0


def test_put_with_own_ttl() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(5, 10, clock)
    cache.put("a", 1, ttl_seconds=1)

    clock.now += 1
    assert cache.get("a") is None


def test_zero_ttl_keeps_nothing() -> None:
    cache: TtlCache[str, int] = TtlCache(0, 10, FakeClock())
    cache.put("a", 1)

    assert cache.get("a") is None
    assert len(cache) == 0


def test_infinite_ttl_never_expires() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(math.inf, 10, clock)
    cache.put("a", 1)

    clock.now += 10**9
    assert cache.get("a") == 1


def test_full_cache_drops_least_recently_used() -> None:
    cache: TtlCache[str, int] = TtlCache(60, 2, FakeClock())
    cache.put("a", 1)
    cache.put("b", 2)
    cache.get("a")  # a is now more recently used than b

    cache.put("c", 3)

    assert cache.get("b") is None
    assert cache.get("a") == 1
    assert cache.get("c") == 3


def test_pop_and_clear() -> None:
    cache: TtlCache[str, int] = TtlCache(60, 10, FakeClock())
    cache.put("a", 1)
    cache.put("b", 2)

    cache.pop("a")
    cache.pop("missing")
    assert cache.get("a") is None
    assert cache.get("b") == 2

    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize(("ttl", "entries"), [(-1, 10), (5, 0)])
def test_invalid_limits_raise(ttl: float, entries: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        TtlCache(ttl, entries)
