"""The template's resources in moto, and the event sources that invoke functions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from local.aws import create_resources
from local.event_sources import EventSources, EventSourceSettings, Schedule, read_event_sources
from local.functions import read_functions
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


def notified_events(stack: LocalTestStack) -> dict[str, Any]:
    """Return the events NotifiedFunction stored, by their id or marker."""
    items = stack.client("dynamodb").scan(TableName="external-providers-RecordsTable")["Items"]
    return {
        item["pk"]["S"]: json.loads(item["event"]["S"])
        for item in items
        if item["source"]["S"] == "notified"
    }


def test_rule_events_reach_the_function(local_test_stack: LocalTestStack) -> None:
    events = local_test_stack.client("events")

    events.put_events(
        Entries=[
            {
                "EventBusName": "external-providers-events",
                "Source": "test.unrelated",
                "DetailType": "ItemChanged",
                "Detail": json.dumps({"item": "unrelated"}),
            },
            {
                "EventBusName": "external-providers-events",
                "Source": "test.items",
                "DetailType": "ItemChanged",
                "Detail": json.dumps({"item": "7"}),
            },
        ]
    )

    stored = wait_for(lambda: notified_events(local_test_stack))
    [event] = stored.values()
    assert event["source"] == "test.items"
    assert event["detail-type"] == "ItemChanged"
    assert event["detail"] == {"item": "7"}


def test_rule_on_bus_outside_template(local_test_stack: LocalTestStack) -> None:
    events = local_test_stack.client("events")

    events.put_events(
        Entries=[
            {
                "EventBusName": "other-service-bus",
                "Source": "test.other",
                "DetailType": "Anything",
                "Detail": json.dumps({"marker": "from-other-service"}),
            }
        ]
    )

    stored = wait_for(lambda: notified_events(local_test_stack).get("from-other-service"))
    assert stored == {"marker": "from-other-service"}


def test_schedule_invokes_the_function(local_test_stack: LocalTestStack) -> None:
    # A rate of 0.2 s instead of the template's hour, so the test does not wait.
    schedule = Schedule("NotifiedFunction", "fast", "rate(1 hour)", 0.2, {"marker": "scheduled"})
    sources = EventSources(
        EventSourceSettings(schedules=[schedule]),
        runtime=local_test_stack.runtime,
        template=local_test_stack.template,
        aws_endpoint_url=local_test_stack.aws_url,
    )

    sources.start()
    try:
        stored = wait_for(lambda: notified_events(local_test_stack).get("scheduled"))
    finally:
        sources.stop()

    assert stored == {"marker": "scheduled"}


def test_template_event_sources(local_test_stack: LocalTestStack) -> None:
    template = local_test_stack.template

    settings = read_event_sources(template, read_functions(template))

    assert [(queue.function, queue.batch_size) for queue in settings.queues] == [
        ("RecorderFunction", 5)
    ]
    assert [(rule.bus_name, rule.input_path) for rule in settings.rules] == [
        ("external-providers-events", None),
        ("other-service-bus", "$.detail"),
    ]
    # The cron schedule is not fired locally, so only the rate schedule is read.
    assert [(item.period_seconds, item.input) for item in settings.schedules] == [
        (3600, {"marker": "hourly"})
    ]


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
    assert {"KeysKmsKey", "KeysKmsKeyAlias", "ProvidersTable"} <= set(created)
    assert created.index("KeysKmsKey") < created.index("KeysKmsKeyAlias")
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert aliases["alias/external-providers-provider-keys"] == key_id
    assert template.resolve({"Fn::GetAtt": ["KeysKmsKey", "Arn"]}).endswith(f":key/{key_id}")
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
