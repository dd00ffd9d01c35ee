"""Test function for EventBridge rules and schedules: stores each event it gets."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> None:
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={
            "pk": {"S": str(event.get("id") or event.get("marker") or uuid.uuid4())},
            "source": {"S": "notified"},
            "event": {"S": json.dumps(event)},
        },
    )
