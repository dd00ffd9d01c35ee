"""Test function on an SQS queue: stores each message body, and fails the body `poison`."""

from __future__ import annotations

import os
from typing import Any

import boto3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    dynamodb = boto3.client("dynamodb")
    failures = []
    for record in event["Records"]:
        if record["body"] == "poison":
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        dynamodb.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={
                "pk": {"S": record["body"]},
                "source": {"S": record["eventSource"]},
                "queue": {"S": record["eventSourceARN"]},
            },
        )
    return {"batchItemFailures": failures}
