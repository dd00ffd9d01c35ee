"""Test function: returns the event and context it received, or fails on request."""

from __future__ import annotations

import json
import os
from typing import Any

# Lambda puts the function's folder and layers on sys.path, but mypy checks this file as a
# tests module.
from counter_state import count_call  # type: ignore[import-not-found]
from helper import LABEL  # type: ignore[import-not-found]


def handler(event: dict[str, Any], context: Any) -> Any:
    if "requestContext" not in event:
        return invoked_directly(event, context)

    item_id = (event.get("pathParameters") or {}).get("item_id")
    if item_id == "fail":
        raise RuntimeError("the echo function failed on purpose")
    if item_id == "bad-response":
        return {"statusCode": "two hundred"}
    if item_id == "plain":
        return {"plain": True}
    if item_id == "binary":
        return {"statusCode": 200, "body": "AAEC", "isBase64Encoded": True}

    return {
        "statusCode": 201,
        "headers": {
            "content-type": "application/json",
            "x-echo": LABEL,
            "access-control-allow-origin": "https://ignored.example",
        },
        "cookies": ["session=abc; Path=/", "theme=dark"],
        "body": json.dumps({"event": event, "function_name": context.function_name}),
    }


def invoked_directly(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("fail"):
        raise ValueError("the echo function was asked to fail")
    return {
        "received": event,
        "function_name": context.function_name,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "aws_request_id": context.aws_request_id,
        "setting": os.environ["ECHO_SETTING"],
        "table_name": os.environ["TABLE_NAME"],
        "endpoint": os.environ["AWS_ENDPOINT_URL"],
        "tracing_disabled": os.environ["POWERTOOLS_TRACE_DISABLED"],
        "helper": LABEL,
        "layer_calls": count_call("echo"),
    }
