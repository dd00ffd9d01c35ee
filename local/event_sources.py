"""Functions' SQS, EventBridge rule and schedule events, delivered as AWS would deliver them.

- `SQS`: a thread polls the queue in moto and invokes the function with batches of records.
- `EventBridgeRule`: the stack puts a rule with the event's pattern on the bus in moto, with
  a local queue as its target, because moto can deliver events to SQS but not to a function
  in this process. A thread invokes the function with each event from that queue.
- `Schedule` and `ScheduleV2` with a `rate(...)` expression: a thread invokes the function
  once per period. The first run comes one period after start, as for a new rule in AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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

DELIVERED_EVENT_TYPES = ("SQS", "EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2")
OTHER_HANDLED_EVENT_TYPES = ("HttpApi",)


@dataclass(frozen=True)
class QueueSubscription:
    """A function's `SQS` event: which queue it reads and how."""

    function: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class RuleSubscription:
    """A function's `EventBridgeRule` event: the bus and the pattern of the events it gets."""

    function: str
    rule_name: str
    bus_name: str
    pattern: dict[str, Any]
    input: Any = None
    """The template's `Input`, sent in place of each matching event."""
    input_path: str | None = None
    """The template's `InputPath`, such as `$.detail`: the part of the event to send."""


@dataclass(frozen=True)
class Schedule:
    """A function's `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler)."""

    function: str
    name: str
    expression: str
    period_seconds: float
    input: Any
    """The event to send: the template's `Input`, or None for a rule's Scheduled Event."""


@dataclass
class EventSourceSettings:
    """The event sources of all functions, as the template declares them."""

    queues: list[QueueSubscription] = field(default_factory=list)
    rules: list[RuleSubscription] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)


def read_event_sources(
    template: Template, functions: Mapping[str, FunctionSpec]
) -> EventSourceSettings:
    """Read the SQS, rule and schedule events of the functions; log those not delivered."""
    settings = EventSourceSettings()
    for function in functions.values():
        for event_name, event in function.events.items():
            event_type = event.get("Type")
            if event_type in OTHER_HANDLED_EVENT_TYPES:
                continue
            if event_type not in DELIVERED_EVENT_TYPES:
                logger.warning(
                    "event %s of %s has type %s, which the local stack does not deliver; "
                    "invoke the function through the Lambda Invoke API instead",
                    event_name,
                    function.logical_id,
                    event_type,
                )
                continue

            properties = template.resolve(event.get("Properties") or {})
            if _disabled(properties):
                continue
            if event_type == "SQS":
                settings.queues.append(_queue_subscription(function, properties))
            elif event_type in ("EventBridgeRule", "CloudWatchEvent"):
                rule = _rule_subscription(template, function, event_name, properties)
                if rule is not None:
                    settings.rules.append(rule)
            else:
                schedule = _schedule(function, event_name, event_type, properties)
                if schedule is not None:
                    settings.schedules.append(schedule)
    return settings


def _disabled(properties: Mapping[str, Any]) -> bool:
    return properties.get("Enabled") in (False, "false") or properties.get("State") in (
        "DISABLED",
        "Disabled",
    )


def _queue_subscription(function: FunctionSpec, properties: Mapping[str, Any]) -> QueueSubscription:
    response_types = properties.get("FunctionResponseTypes") or []
    return QueueSubscription(
        function=function.logical_id,
        queue_arn=str(properties["Queue"]),
        batch_size=int(properties.get("BatchSize", 10)),
        report_batch_item_failures="ReportBatchItemFailures" in response_types,
    )


def _rule_subscription(
    template: Template, function: FunctionSpec, event_name: str, properties: Mapping[str, Any]
) -> RuleSubscription | None:
    if "InputTransformer" in properties:
        logger.warning(
            "event %s of %s uses InputTransformer, which the local stack does not apply; "
            "it is not delivered",
            event_name,
            function.logical_id,
        )
        return None
    input_value = properties.get("Input")
    # Rule names have at most 64 characters.
    default_name = f"{template.pseudo.stack_name}-{function.logical_id}-{event_name}"[:64]
    return RuleSubscription(
        function=function.logical_id,
        rule_name=str(properties.get("RuleName") or default_name),
        bus_name=str(properties.get("EventBusName") or "default"),
        pattern=dict(properties["Pattern"]),
        input=None if input_value is None else json.loads(input_value),
        input_path=properties.get("InputPath"),
    )


def _schedule(
    function: FunctionSpec, event_name: str, event_type: str, properties: Mapping[str, Any]
) -> Schedule | None:
    expression = str(properties.get("Schedule", properties.get("ScheduleExpression", "")))
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
        event_input = None  # a rule's Scheduled Event, built at each run
    else:
        # A ScheduleV2 without Input gets an empty object here.
        event_input = {}
    return Schedule(function.logical_id, name, expression, period, event_input)


class EventSources:
    """Runs the queue pollers, rule deliveries and schedules on background threads.

    Parameters
    ----------
    settings
        From `read_event_sources`.
    runtime
        Invokes the functions.
    template
        Gives the region, account and stack name.
    aws_endpoint_url
        moto's URL, where the queues and buses are.
    """

    def __init__(
        self,
        settings: EventSourceSettings,
        *,
        runtime: FunctionRuntime,
        template: Template,
        aws_endpoint_url: str,
    ) -> None:
        self.settings = settings
        self._runtime = runtime
        self._template = template
        self._aws_endpoint_url = aws_endpoint_url
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Create the rules' queues and targets, then start one thread per event source."""
        for subscription in self.settings.queues:
            queue_name = subscription.queue_arn.rsplit(":", 1)[-1]
            queue_url = self._client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
            deliver = self._batch_delivery(subscription)
            batch_size = min(subscription.batch_size, 10)
            self._start_thread(
                f"sqs-{subscription.function}", self._poll, queue_url, batch_size, deliver
            )
            logger.info("polling %s for %s", queue_name, subscription.function)

        for rule in self.settings.rules:
            queue_url = self._route_rule_to_queue(rule)
            deliver = self._event_delivery(rule)
            self._start_thread(f"rule-{rule.rule_name}", self._poll, queue_url, 10, deliver)
            logger.info(
                "delivering rule %s on bus %s to %s", rule.rule_name, rule.bus_name, rule.function
            )

        for schedule in self.settings.schedules:
            self._start_thread(f"schedule-{schedule.name}", self._fire, schedule)
            logger.info("scheduling %s: %s", schedule.function, schedule.expression)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=SQS_WAIT_SECONDS + 5)

    def _client(self, service_name: str) -> Any:
        region = self._template.pseudo.region
        return aws_client(service_name, endpoint_url=self._aws_endpoint_url, region=region)

    def _start_thread(self, name: str, target: Callable[..., None], *arguments: Any) -> None:
        thread = threading.Thread(target=target, args=arguments, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _route_rule_to_queue(self, rule: RuleSubscription) -> str:
        """Put the rule on its bus with a new local queue as its target; return the queue URL."""
        sqs = self._client("sqs")
        events = self._client("events")
        queue_name = rule.rule_name.replace(".", "-") + "-local-delivery"  # SQS forbids dots
        queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

        # A bus outside the template (another service's) is created, so events can be put.
        try:
            events.describe_event_bus(Name=rule.bus_name)
        except events.exceptions.ResourceNotFoundException:
            events.create_event_bus(Name=rule.bus_name)

        events.put_rule(
            Name=rule.rule_name, EventBusName=rule.bus_name, EventPattern=json.dumps(rule.pattern)
        )
        events.put_targets(
            Rule=rule.rule_name,
            EventBusName=rule.bus_name,
            Targets=[{"Id": "local-delivery", "Arn": queue_arn}],
        )
        return queue_url

    def _poll(
        self,
        queue_url: str,
        batch_size: int,
        deliver: Callable[[Any, str, list[dict[str, Any]]], None],
    ) -> None:
        sqs = self._client("sqs")
        while not self._stopping.is_set():
            # NOTE: one ReceiveMessage call makes a batch, so a BatchSize above 10 and
            # MaximumBatchingWindowInSeconds are not honoured.
            try:
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=batch_size,
                    WaitTimeSeconds=SQS_WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if messages:
                    deliver(sqs, queue_url, messages)
            except (BotoCoreError, ClientError) as error:
                logger.error("polling %s failed, retrying in 1 s: %s", queue_url, error)
                self._stopping.wait(1)

    def _batch_delivery(
        self, subscription: QueueSubscription
    ) -> Callable[[Any, str, list[dict[str, Any]]], None]:
        region = self._template.pseudo.region

        def deliver(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
            records = [_sqs_record(message, subscription.queue_arn, region) for message in messages]
            try:
                result = json.loads(
                    self._runtime.invoke(subscription.function, {"Records": records})
                )
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
            _delete(sqs, queue_url, [m for m in messages if m["MessageId"] not in failed])

        return deliver

    def _event_delivery(
        self, rule: RuleSubscription
    ) -> Callable[[Any, str, list[dict[str, Any]]], None]:
        def deliver(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
            for message in messages:
                event = _rule_input(rule, json.loads(message["Body"]))
                try:
                    self._runtime.invoke(rule.function, event)
                except FunctionError as error:
                    # NOTE: Lambda retries a failed asynchronous invocation twice and then
                    # sends the event to the function's dead-letter queue; here it is dropped.
                    logger.error(
                        "%s failed on an event of rule %s: %s", rule.function, rule.rule_name, error
                    )
            _delete(sqs, queue_url, messages)

        return deliver

    def _fire(self, schedule: Schedule) -> None:
        while not self._stopping.wait(schedule.period_seconds):
            event = schedule.input
            if event is None:
                event = self._scheduled_event(schedule)
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


def _delete(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> None:
    for start in range(0, len(messages), 10):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages[start : start + 10])
            ],
        )


def _rule_input(rule: RuleSubscription, event: Any) -> Any:
    """Apply the rule target's `Input` or `InputPath` (dotted paths only, such as `$.detail`)."""
    if rule.input is not None:
        return rule.input
    if rule.input_path is None or rule.input_path == "$":
        return event
    selected = event
    for part in rule.input_path.removeprefix("$.").split("."):
        selected = selected.get(part) if isinstance(selected, dict) else None
    return selected


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
