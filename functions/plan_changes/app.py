"""Plan changes: records each org's plan from `OrgPlanChanged` events, for the resolver.

An event that does not parse is dropped, with an error log and the `PlanChangeRejected`
metric, because retrying it would fail the same way. A failed DynamoDB write raises, so
Lambda retries the asynchronous invocation and then keeps the event in the dead-letter queue.
Recording is idempotent, so a retried or repeated event changes nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from external_providers.aws_clients import dynamodb_client
from external_providers.plan_events import OrgPlanChanged
from external_providers.settings import get_settings
from external_providers.stores.plan_store import PlanStore
from external_providers.validation_messages import describe_problems

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def plan_store() -> PlanStore:
    return PlanStore(dynamodb_client(), get_settings().table_name)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, str]:
    try:
        change = OrgPlanChanged.model_validate(event)
    except ValidationError as error:
        logger.error(
            "dropped invalid plan change event",
            event_id=_field(event, "id"),
            detail_type=_field(event, "detail-type"),
            source=_field(event, "source"),
            problems=describe_problems(error.errors(), whole="event"),
        )
        metrics.add_metric(name="PlanChangeRejected", unit=MetricUnit.Count, value=1)
        return {"outcome": "rejected"}

    recorded = plan_store().record(change.org_plan())

    logger.info(
        "recorded org plan" if recorded else "skipped plan change older than the stored one",
        event_id=change.id,
        org_id=change.detail.org_id,
        plan=change.detail.plan,
        changed_at=change.time.isoformat(),
    )
    return {"outcome": "recorded" if recorded else "skipped_older"}


def _field(event: Any, name: str) -> str | None:
    """Return one top-level string field of a raw event, for the log; never the whole event."""
    value = event.get(name) if isinstance(event, dict) else None
    return value if isinstance(value, str) else None
