"""Benchmark of the resolver's warm path, with moto's AWS in process.

Measures, through the resolver function's real handler (Powertools decorators included):

- warm resolves within the config TTL: latency percentiles and the AWS calls they make;
- the memory a warm container's caches take per org served.

Run with `make bench`; it exits non-zero when a target is missed. moto runs in process,
so the cold numbers are not AWS's; the warm path makes no AWS call, so its numbers are the
resolver's own.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "layers" / "shared")]

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "external-providers",
        "POWERTOOLS_METRICS_NAMESPACE": "ExternalProviders",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "TABLE_NAME": "ProvidersTable",
        "SECRET_NAME_PREFIX": "external-providers/",
        "RESOLVER_CONFIG_TTL_SECONDS": "300",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
warnings.filterwarnings("ignore", "No application metrics to publish")

import boto3  # noqa: E402 - after the environment above
from moto import mock_aws  # noqa: E402

from external_providers.aws_clients import dynamodb_client, secrets_client  # noqa: E402
from external_providers.domain import Provider, Status  # noqa: E402
from external_providers.provider_config import AuditAction, AuditEntry, ProviderConfig  # noqa: E402
from external_providers.stores.provider_store import ProviderStore  # noqa: E402
from external_providers.stores.secret_store import SecretStore  # noqa: E402
from local.functions import LambdaContext  # noqa: E402
from tests.tables import create_template_tables  # noqa: E402

WARM_RESOLVES = 20_000
MEMORY_ORGS = 2_000

# Targets. The resolver runs before every agent message, so its warm path must cost far
# less than the model call it precedes, and a container serving many orgs must stay small.
WARM_P99_TARGET_MICROSECONDS = 500.0
WARM_AWS_CALLS_TARGET = 0
CACHE_BYTES_PER_ORG_TARGET = 8_192

FAKE_KEY = "sk-or-v1-" + "b" * 64


class CallCounter:
    """Counts the AWS API calls the shared boto3 clients make."""

    def __init__(self) -> None:
        self.calls = 0
        for client in (dynamodb_client(), secrets_client()):
            client.meta.events.register("before-call", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


def save_active_key(org_id: str) -> None:
    """Store an active, enabled OpenRouter key for the org, as a Save through the API does."""
    secrets = SecretStore(secrets_client(), "external-providers/", None, 7)
    version = secrets.put(org_id, Provider.OPENROUTER, FAKE_KEY)
    now = datetime.now(UTC)
    config = ProviderConfig(
        org_id=org_id,
        provider=Provider.OPENROUTER,
        enabled=True,
        status=Status.ACTIVE,
        key_hint="sk-or-v1-…bbbb",
        key_version=version,
        revision=1,
    )
    audit = AuditEntry(
        org_id=org_id,
        provider=Provider.OPENROUTER,
        action=AuditAction.KEY_SAVED,
        actor="bench",
        at=now,
        enabled=True,
        status=Status.ACTIVE,
        key_hint=config.key_hint,
    )
    ProviderStore(dynamodb_client(), "ProvidersTable").save(config, audit)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_warm_path(handler: Callable[..., dict[str, Any]]) -> tuple[list[float], int]:
    event = {"org_id": "org_bench", "usage": "message_tokens"}
    context = LambdaContext.for_direct_call("ResolverFunction")
    first = handler(event, context)
    assert first["route"] == "provider", first.get("reason")

    counter = CallCounter()
    samples = []
    for _ in range(WARM_RESOLVES):
        started = time.perf_counter()
        handler(event, context)
        samples.append((time.perf_counter() - started) * 1_000_000)
    return samples, counter.calls


def measure_cache_memory(handler: Callable[..., dict[str, Any]]) -> float:
    context = LambdaContext.for_direct_call("ResolverFunction")
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    for index in range(MEMORY_ORGS):
        handler({"org_id": f"org_memory_{index}", "usage": "message_tokens"}, context)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (after - before) / MEMORY_ORGS


def main() -> int:
    with mock_aws():
        create_template_tables(boto3.client("dynamodb"))
        save_active_key("org_bench")

        from functions.resolver import app

        samples, aws_calls = measure_warm_path(app.lambda_handler)
        bytes_per_org = measure_cache_memory(app.lambda_handler)

    p50 = statistics.median(samples)
    p99 = percentile(samples, 0.99)
    print(f"resolver warm path, {WARM_RESOLVES} resolves through the handler:")
    print(f"  p50 {p50:.1f} µs, p99 {p99:.1f} µs, max {max(samples):.1f} µs")
    print(f"  AWS calls: {aws_calls}")
    print(f"resolver caches: {bytes_per_org:,.0f} bytes per org ({MEMORY_ORGS} orgs)")
    print(f"  projected for 10,000 orgs: {bytes_per_org * 10_000 / 2**20:.1f} MiB")

    failures = []
    if p99 > WARM_P99_TARGET_MICROSECONDS:
        failures.append(f"warm p99 {p99:.1f} µs is over {WARM_P99_TARGET_MICROSECONDS} µs")
    if aws_calls > WARM_AWS_CALLS_TARGET:
        failures.append(f"warm resolves made {aws_calls} AWS calls, expected none")
    if bytes_per_org > CACHE_BYTES_PER_ORG_TARGET:
        failures.append(f"{bytes_per_org:.0f} bytes per org is over {CACHE_BYTES_PER_ORG_TARGET}")
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
