"""Test layer module with state: each function must get its own copy, as in Lambda."""

from __future__ import annotations

CALLS: list[str] = []


def count_call(function_name: str) -> int:
    """Record one call and return how many this copy of the module has recorded."""
    CALLS.append(function_name)
    return len(CALLS)
