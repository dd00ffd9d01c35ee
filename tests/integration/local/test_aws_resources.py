"""The template's resources in moto, and the SQS event source that feeds a function."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from local.aws import create_resources
from local.template import Template
from tests.integration.local.conftest import LocalTestStack

REPOSITORY = Path(__file__).resolve().parents[3]


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout} s")


def test_table_with_indexes_and_ttl(local_test_stack: LocalTestStack) -> None:
    dynamodb = local_test_stack.client("dynamodb")

    table = dynamodb.describe_table(TableName="external-providers-RecordsTable")["Table"]
    ttl = dynamodb.describe_time_to_live(TableName="external-providers-RecordsTable")

    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["by-source"]
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_queue_with_attributes(local_test_stack: LocalTestStack) -> None:
    sqs = local_test_stack.client("sqs")

    queue_url = sqs.get_queue_url(QueueName="external-providers-RecordsQueue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])

    assert attributes["Attributes"]["VisibilityTimeout"] == "30"
    assert local_test_stack.template.resolve({"Ref": "RecordsQueue"}) == queue_url


def test_event_bus(local_test_stack: LocalTestStack) -> None:
    events = local_test_stack.client("events")

    bus = events.describe_event_bus(Name="external-providers-events")

    assert bus["Arn"] == local_test_stack.template.resolve({"Fn::GetAtt": ["EventsBus", "Arn"]})


def test_sqs_messages_reach_the_function(local_test_stack: LocalTestStack) -> None:
    sqs = local_test_stack.client("sqs")
    dynamodb = local_test_stack.client("dynamodb")
    queue_url = local_test_stack.template.resolve({"Ref": "RecordsQueue"})

    for body in ("first", "poison", "second"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    def stored() -> list[str]:
        items = dynamodb.scan(TableName="external-providers-RecordsTable")["Items"]
        return sorted(item["pk"]["S"] for item in items)

    assert wait_for(lambda: stored() == ["first", "second"])

    # The function reported `poison` as a failed item, so it stays on the queue, invisible
    # until its visibility timeout ends, while the others are deleted.
    def visible_and_in_flight() -> tuple[str, str]:
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])
        counts = attributes["Attributes"]
        return counts["ApproximateNumberOfMessages"], counts[
            "ApproximateNumberOfMessagesNotVisible"
        ]

    assert wait_for(lambda: visible_and_in_flight() == ("0", "1"))


def test_real_template_resources(local_test_stack: LocalTestStack) -> None:
    template = Template.from_file(REPOSITORY / "template.yaml")

    created = create_resources(template, local_test_stack.aws_url)

    kms = local_test_stack.client("kms")
    dynamodb = local_test_stack.client("dynamodb")
    key_id = template.resolve({"Ref": "KeysKmsKey"})
    aliases = {
        alias["AliasName"]: alias.get("TargetKeyId") for alias in kms.list_aliases()["Aliases"]
    }
    backups = dynamodb.describe_continuous_backups(TableName="external-providers-ProvidersTable")
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert created == ["KeysKmsKey", "KeysKmsKeyAlias", "ProvidersTable"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert aliases["alias/external-providers-provider-keys"] == key_id
    assert template.resolve({"Fn::GetAtt": ["KeysKmsKey", "Arn"]}).endswith(f":key/{key_id}")
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
