"""Functions' SQS and schedule events, run as Lambda's pollers and EventBridge would run them.

For each `SQS` event a thread polls the queue in moto and invokes the function with a batch.
For each `Schedule` or `ScheduleV2` event with a `rate(...)` expression a thread invokes the
function once per period. The first run comes one period after start, as for a new rule in AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.aws import aws_client
from local.functions import FunctionError, FunctionRuntime, FunctionSpec
from local.template import Template

logger = logging.getLogger(__name__)

SQS_WAIT_SECONDS = 1
"""Long-poll time of one ReceiveMessage call; also how long a stop may wait for a poller."""

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_RATE_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

HANDLED_EVENT_TYPES = ("HttpApi", "SQS", "Schedule", "ScheduleV2")


@dataclass(frozen=True)
class QueueSubscription:
    """A function's `SQS` event: which queue it reads and how."""

    function: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class Schedule:
    """A function's `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler)."""

    function: str
    name: str
    expression: str
    period_seconds: int
    input: Any
    """The event to send: the template's `Input`, or the Scheduled Event of a rule."""


def read_event_sources(
    template: Template, functions: Mapping[str, FunctionSpec]
) -> tuple[list[QueueSubscription], list[Schedule]]:
    """Read the SQS and schedule events of the functions; log those the stack cannot run."""
    subscriptions: list[QueueSubscription] = []
    schedules: list[Schedule] = []
    for function in functions.values():
        for event_name, event in function.events.items():
            event_type = event.get("Type")
            properties = template.resolve(event.get("Properties") or {})
            if event_type == "SQS":
                if properties.get("Enabled", True) in (False, "false"):
                    continue
                subscriptions.append(
                    QueueSubscription(
                        function=function.logical_id,
                        queue_arn=str(properties["Queue"]),
                        batch_size=int(properties.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (properties.get("FunctionResponseTypes") or []),
                    )
                )
            elif event_type in ("Schedule", "ScheduleV2"):
                schedule = _schedule(template, function, event_name, event_type, properties)
                if schedule is not None:
                    schedules.append(schedule)
            elif event_type not in HANDLED_EVENT_TYPES:
                logger.warning(
                    "event %s of %s has type %s, which the local stack does not deliver; "
                    "invoke the function through the Lambda Invoke API instead",
                    event_name,
                    function.logical_id,
                    event_type,
                )
    return subscriptions, schedules


def _schedule(
    template: Template,
    function: FunctionSpec,
    event_name: str,
    event_type: str,
    properties: Mapping[str, Any],
) -> Schedule | None:
    expression = str(properties.get("Schedule", properties.get("ScheduleExpression", "")))
    disabled = properties.get("Enabled") in (False, "false") or properties.get("State") in (
        "DISABLED",
        "Disabled",
    )
    if disabled:
        return None

    rate = _RATE.fullmatch(expression.strip())
    if rate is None:
        # NOTE: cron() and at() expressions are not evaluated locally.
        logger.warning(
            "schedule %s of %s is %r; the local stack fires only rate(...) schedules, so "
            "invoke the function through the Lambda Invoke API",
            event_name,
            function.logical_id,
            expression,
        )
        return None
    period = int(rate.group(1)) * _RATE_UNIT_SECONDS[rate.group(2).rstrip("s")]

    name = str(properties.get("Name") or f"{function.name}-{event_name}")
    if "Input" in properties:
        event_input: Any = json.loads(properties["Input"])
    elif event_type == "Schedule":
        event_input = None  # a rule's Scheduled Event, built at each firing
    else:
        event_input = {}
    return Schedule(function.logical_id, name, expression, period, event_input)


class EventSources:
    """Runs the queue pollers and schedules on background threads until `stop`.

    Parameters
    ----------
    subscriptions, schedules
        From `read_event_sources`.
    runtime
        Invokes the functions.
    template
        Gives the region and account of the events.
    aws_endpoint_url
        moto's URL, where the queues are.
    """

    def __init__(
        self,
        subscriptions: list[QueueSubscription],
        schedules: list[Schedule],
        *,
        runtime: FunctionRuntime,
        template: Template,
        aws_endpoint_url: str,
    ) -> None:
        self.subscriptions = subscriptions
        self.schedules = schedules
        self._runtime = runtime
        self._template = template
        self._aws_endpoint_url = aws_endpoint_url
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for subscription in self.subscriptions:
            self._start_thread(f"sqs-{subscription.function}", self._poll, subscription)
        for schedule in self.schedules:
            self._start_thread(f"schedule-{schedule.name}", self._fire, schedule)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=SQS_WAIT_SECONDS + 5)

    def _start_thread(self, name: str, target: Callable[[Any], None], argument: Any) -> None:
        thread = threading.Thread(target=target, args=(argument,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll(self, subscription: QueueSubscription) -> None:
        region = self._template.pseudo.region
        sqs = aws_client("sqs", endpoint_url=self._aws_endpoint_url, region=region)
        queue_name = subscription.queue_arn.rsplit(":", 1)[-1]
        queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        logger.info("polling %s for %s", queue_name, subscription.function)

        while not self._stopping.is_set():
            # NOTE: one ReceiveMessage call makes a batch, so a BatchSize above 10 and
            # MaximumBatchingWindowInSeconds are not honoured.
            try:
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=min(subscription.batch_size, 10),
                    WaitTimeSeconds=SQS_WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if messages:
                    self._deliver(sqs, queue_url, subscription, messages, region)
            except (BotoCoreError, ClientError) as error:
                logger.error("polling %s failed, retrying in 1 s: %s", queue_name, error)
                self._stopping.wait(1)

    def _deliver(
        self,
        sqs: Any,
        queue_url: str,
        subscription: QueueSubscription,
        messages: list[dict[str, Any]],
        region: str,
    ) -> None:
        event = {
            "Records": [
                _sqs_record(message, subscription.queue_arn, region) for message in messages
            ]
        }
        try:
            result = json.loads(self._runtime.invoke(subscription.function, event))
        except FunctionError as error:
            # The messages become visible again after the visibility timeout, and the
            # queue's redrive policy moves them to its dead-letter queue, as in AWS.
            logger.error(
                "%s failed on a batch of %d: %s", subscription.function, len(messages), error
            )
            return

        failed: set[str] = set()
        if subscription.report_batch_item_failures and isinstance(result, dict):
            failed = {
                str(item.get("itemIdentifier"))
                for item in result.get("batchItemFailures") or []
                if isinstance(item, dict)
            }
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )

    def _fire(self, schedule: Schedule) -> None:
        logger.info("scheduling %s: %s (%s)", schedule.function, schedule.expression, schedule.name)
        while not self._stopping.wait(schedule.period_seconds):
            event = (
                schedule.input if schedule.input is not None else self._scheduled_event(schedule)
            )
            try:
                self._runtime.invoke(schedule.function, event)
            except FunctionError as error:
                logger.error("scheduled run of %s failed: %s", schedule.function, error)

    def _scheduled_event(self, schedule: Schedule) -> dict[str, Any]:
        pseudo = self._template.pseudo
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": pseudo.account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": pseudo.region,
            "resources": [
                f"arn:{pseudo.partition}:events:{pseudo.region}:{pseudo.account_id}:"
                f"rule/{schedule.name}"
            ],
            "detail": {},
        }


def _sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """Build one record of Lambda's SQS event from a ReceiveMessage message."""
    attributes = {}
    for name, attribute in (message.get("MessageAttributes") or {}).items():
        record_attribute: dict[str, Any] = {
            "dataType": attribute["DataType"],
            "stringListValues": [],
            "binaryListValues": [],
        }
        if "StringValue" in attribute:
            record_attribute["stringValue"] = attribute["StringValue"]
        if "BinaryValue" in attribute:
            record_attribute["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode()
        attributes[name] = record_attribute

    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
