"""The plan changes function against moto, and the resolver's response for a downgraded org."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from external_providers.aws_clients import dynamodb_client
from external_providers.stores.plan_store import PlanStore
from local.functions import LambdaContext
from tests.integration.conftest import Api, AwsStack, Sandbox
from tests.integration.resolver.conftest import (
    EVENTS,
    TTL_SECONDS,
    ChangePlan,
    FakeClock,
    Resolve,
    emitted_metrics,
    plan_event,
    resolver_event,
)

OPENROUTER_KEY = "sk-or-v1-" + "c5" * 32
OPENAI_KEY = "sk-proj-" + "Tm3_q" * 30


@pytest.fixture
def saved_keys(api: Api, sandbox: Sandbox) -> None:
    """Both providers of org_123 saved and switched on through the API."""
    for provider, key in (("openrouter", OPENROUTER_KEY), ("openai", OPENAI_KEY)):
        sandbox.set_key(key, provider)
        response = api("PUT", f"/providers/{provider}", body={"api_key": key, "enabled": True})
        assert response.status == 200, response.body


def plan_store(aws: AwsStack) -> PlanStore:
    return PlanStore(aws.dynamodb, aws.table_name)


@pytest.mark.usefixtures("saved_keys")
def test_downgrade_routes_to_platform_and_back(
    resolve: Resolve, change_plan: ChangePlan, clock: FakeClock
) -> None:
    # Given an enterprise org whose usage goes to its providers
    assert resolve(resolver_event("message_tokens"))["route"] == "provider"

    # When it leaves the enterprise plan
    assert change_plan("pro", "2026-12-04T19:00:00Z") == {"outcome": "recorded"}
    clock.advance(TTL_SECONDS)

    # Then every usage kind goes to the platform, and its keys stay
    for usage in ("message_tokens", "voice_seconds", "knowledge_tokens"):
        assert resolve(resolver_event(usage)) == {
            "route": "platform",
            "provider": None,
            "reason": "not_enterprise",
        }

    # When it returns to the enterprise plan
    assert change_plan("enterprise", "2026-12-05T08:30:00Z") == {"outcome": "recorded"}
    clock.advance(TTL_SECONDS)

    # Then its providers get the usage again, with the keys it had
    answer = resolve(resolver_event("message_tokens"))
    assert answer["route"] == "provider"
    assert answer["api_key"] == OPENROUTER_KEY
    assert resolve(resolver_event("voice_seconds"))["api_key"] == OPENAI_KEY


def test_sample_event_records_plan(aws: AwsStack) -> None:
    from functions.plan_changes import app

    event = json.loads((EVENTS / "plan_changes" / "org_plan_changed.json").read_text())

    result = app.lambda_handler(event, LambdaContext.for_direct_call("PlanChangesFunction"))

    assert result == {"outcome": "recorded"}
    recorded = plan_store(aws).get("org_123")
    assert recorded is not None
    assert recorded.plan == "pro"
    assert recorded.changed_at == datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize("field", ["account", "region", "resources", "version"])
def test_unused_envelope_field_may_be_missing(aws: AwsStack, field: str) -> None:
    from functions.plan_changes import app

    context = LambdaContext.for_direct_call("PlanChangesFunction")
    result = app.lambda_handler(without(field), context)

    assert result == {"outcome": "recorded"}


def test_older_event_does_not_overwrite(aws: AwsStack, change_plan: ChangePlan) -> None:
    # Given a downgrade recorded
    change_plan("pro", "2026-12-04T19:00:00Z")

    # When an earlier upgrade arrives late, and the downgrade arrives again
    late = change_plan("enterprise", "2026-12-04T18:59:59Z")
    repeated = change_plan("pro", "2026-12-04T19:00:00Z")

    # Then the latest change stays recorded
    assert late == {"outcome": "skipped_older"}
    assert repeated == {"outcome": "recorded"}
    recorded = plan_store(aws).get("org_123")
    assert recorded is not None
    assert recorded.plan == "pro"


def test_time_zones_compare_as_instants(aws: AwsStack, change_plan: ChangePlan) -> None:
    change_plan("pro", "2026-12-04T20:00:00+01:00")  # 19:00 UTC

    late = change_plan("enterprise", "2026-12-04T18:30:00Z")
    later = change_plan("enterprise", "2026-12-04T14:30:00-05:00")  # 19:30 UTC

    assert late == {"outcome": "skipped_older"}
    assert later == {"outcome": "recorded"}


def test_no_plan_record_counts_as_enterprise(
    saved_keys: None, resolve: Resolve, aws: AwsStack
) -> None:
    assert plan_store(aws).get("org_123") is None

    assert resolve(resolver_event("knowledge_tokens"))["reason"] == "active"


def test_other_org_plan_does_not_apply(
    saved_keys: None, resolve: Resolve, change_plan: ChangePlan
) -> None:
    change_plan("pro", org_id="org_456")

    assert resolve(resolver_event("message_tokens"))["reason"] == "active"


def dropped_events(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [record for record in caplog.records if record.getMessage().startswith("dropped")]


def without(field: str) -> dict[str, Any]:
    event = plan_event("pro")
    del event[field]
    return event


def with_envelope(**fields: Any) -> dict[str, Any]:
    return {**plan_event("pro"), **fields}


@pytest.mark.parametrize(
    "event",
    [
        plan_event("pro", org_id="org 123"),
        plan_event("pro", org_id=None),
        plan_event(""),
        plan_event("p" * 65),
        plan_event("pro", time="2026-12-04T19:00:00"),
        plan_event("pro", time="yesterday"),
        without("detail"),
        without("time"),
        without("id"),
        with_envelope(**{"detail-type": "OrgCreated"}),
        {},
        [],
        "OrgPlanChanged",
    ],
    ids=[
        "bad-org-id",
        "null-org-id",
        "empty-plan",
        "long-plan",
        "time-without-zone",
        "time-not-a-time",
        "no-detail",
        "no-time",
        "no-id",
        "other-detail-type",
        "empty",
        "list",
        "string",
    ],
)
def test_bad_event_is_dropped(
    aws: AwsStack,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    event: Any,
) -> None:
    from functions.plan_changes import app

    result = app.lambda_handler(event, LambdaContext.for_direct_call("PlanChangesFunction"))

    assert result == {"outcome": "rejected"}
    assert emitted_metrics(capsys.readouterr().out) == ["PlanChangeRejected"]
    [record] = dropped_events(caplog)
    assert record.levelname == "ERROR"
    assert record.problems
    assert plan_store(aws).get("org_123") is None


def test_bad_event_log_names_event_not_whole(
    aws: AwsStack, caplog: pytest.LogCaptureFixture
) -> None:
    from functions.plan_changes import app

    event = plan_event("pro", org_id="org 123", note="a field no log should carry")

    app.lambda_handler(event, LambdaContext.for_direct_call("PlanChangesFunction"))

    [record] = dropped_events(caplog)
    assert record.event_id == event["id"]
    assert record.detail_type == "OrgPlanChanged"
    assert record.source == "platform.billing"
    assert "a field no log should carry" not in repr(record.__dict__)


def test_table_error_raises_for_retry(aws: AwsStack, change_plan: ChangePlan) -> None:
    # Lambda retries an asynchronous invocation that raised, then keeps the event in the
    # dead-letter queue, so a write that failed must raise.
    with Stubber(dynamodb_client()) as stubber:
        stubber.add_client_error(
            "put_item", service_error_code="ProvisionedThroughputExceededException"
        )

        with pytest.raises(dynamodb_client().exceptions.ProvisionedThroughputExceededException):
            change_plan("pro")

    assert plan_store(aws).get("org_123") is None
