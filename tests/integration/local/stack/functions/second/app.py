"""Test function with a 1 s timeout: sleeps or returns non-JSON on request."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Any

# Lambda puts the function's folder and layers on sys.path, but mypy checks this file as a
# tests module.
from counter_state import count_call  # type: ignore[import-not-found]
from helper import LABEL  # type: ignore[import-not-found]


def handler(event: dict[str, Any], context: Any) -> Any:
    if "sleep_seconds" in event:
        time.sleep(float(event["sleep_seconds"]))
    if event.get("return_datetime"):
        return {"now": datetime.now(UTC)}
    return {
        "helper": LABEL,
        "setting": os.environ["ECHO_SETTING"],
        "layer_calls": count_call("second"),
    }
