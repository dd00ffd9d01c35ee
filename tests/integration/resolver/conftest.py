"""Fixtures for the resolver and plan changes functions against moto, with a fake clock."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from external_providers.aws_clients import dynamodb_client, secrets_client
from external_providers.resolver import build_resolver, get_resolver_settings
from local.functions import LambdaContext
from tests.integration.conftest import AwsStack

EVENTS = Path(__file__).resolve().parents[3] / "events"
TTL_SECONDS = 5.0

Resolve = Callable[[Any], dict[str, Any]]
ChangePlan = Callable[..., dict[str, str]]


class FakeClock:
    """Seconds that pass only when a test advances them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def resolver_event(usage: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "resolver" / f"{usage}.json").read_text())
    return event


def plan_event(plan: str, time: str = "2026-12-04T19:00:00Z", **detail: Any) -> dict[str, Any]:
    """The sample OrgPlanChanged event with another plan, time or detail fields."""
    sample = json.loads((EVENTS / "plan_changes" / "org_plan_changed.json").read_text())
    event: dict[str, Any] = copy.deepcopy(sample)
    event["time"] = time
    event["detail"] = {**event["detail"], "plan": plan, **detail}
    return event


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def resolve(aws: AwsStack, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Resolve]:
    """Invoke the resolver function's handler, with a cache TTL of 5 s on the fake clock."""
    from functions.resolver import app

    monkeypatch.setenv("RESOLVER_CONFIG_TTL_SECONDS", str(TTL_SECONDS))
    get_resolver_settings.cache_clear()
    monkeypatch.setattr(app, "_resolver", build_resolver(get_resolver_settings(), clock=clock))

    def call(event: Any) -> dict[str, Any]:
        result: dict[str, Any] = app.lambda_handler(
            event, LambdaContext.for_direct_call("ResolverFunction")
        )
        return result

    yield call
    get_resolver_settings.cache_clear()


@pytest.fixture
def change_plan(aws: AwsStack) -> ChangePlan:
    """Invoke the plan changes function's handler with an OrgPlanChanged event."""
    from functions.plan_changes import app

    def call(plan: str, time: str = "2026-12-04T19:00:00Z", **detail: Any) -> dict[str, str]:
        event = plan_event(plan, time, **detail)
        result: dict[str, str] = app.lambda_handler(
            event, LambdaContext.for_direct_call("PlanChangesFunction")
        )
        return result

    return call


@pytest.fixture
def aws_calls(aws: AwsStack) -> Iterator[Counter[str]]:
    """Count the calls the functions' shared boto3 clients make, by operation name."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    clients = [dynamodb_client(), secrets_client()]
    for client in clients:
        client.meta.events.register("before-call.*.*", count)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call.*.*", count)


def emitted_metrics(output: str) -> list[str]:
    """Return the names of the metrics in the Embedded Metric Format lines of the output."""
    names: list[str] = []
    for line in output.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            names.extend(metric["Name"] for metric in directive["Metrics"])
    return names
