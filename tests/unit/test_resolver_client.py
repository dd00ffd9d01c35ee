"""The agent services' resolver client: its cache and its handling of every failure."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from external_providers.domain import Provider, UsageKind
from external_providers.resolver_client import ResolverClient
from external_providers.routing import Reason, Route

REPOSITORY = Path(__file__).resolve().parents[2]
FUNCTION_NAME = "ResolverFunction"
OPENROUTER_KEY = "sk-or-v1-" + "e4" * 32
PROVIDER_RESPONSE = {
    "route": "provider",
    "provider": "openrouter",
    "api_key": OPENROUTER_KEY,
    "base_url": "https://openrouter.ai/api/v1",
    "reason": "active",
}
PLATFORM_RESPONSE = {"route": "platform", "provider": None, "reason": "disabled"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lambda_client() -> Any:
    return boto3.client("lambda", region_name="us-east-1")


@pytest.fixture
def stubber(lambda_client: Any) -> Iterator[Stubber]:
    with Stubber(lambda_client) as active:
        yield active
        active.assert_no_pending_responses()


@pytest.fixture
def client(lambda_client: Any, clock: FakeClock) -> ResolverClient:
    return ResolverClient(
        FUNCTION_NAME,
        lambda_client=lambda_client,
        cache_ttl_seconds=5,
        failure_ttl_seconds=1,
        clock=clock,
    )


def invoke_response(payload: Any, function_error: str | None = None) -> dict[str, Any]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(body), len(body)),
    }
    if function_error is not None:
        response["FunctionError"] = function_error
    return response


def expect_invoke(
    stubber: Stubber,
    payload: Any,
    *,
    usage: str = "message_tokens",
    function_error: str | None = None,
) -> None:
    stubber.add_response(
        "invoke",
        invoke_response(payload, function_error),
        {
            "FunctionName": FUNCTION_NAME,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"org_id": "org_123", "usage": usage}).encode(),
        },
    )


def assert_lookup_failed(resolution: Any) -> None:
    assert resolution.route is Route.PLATFORM
    assert resolution.provider is None
    assert resolution.api_key is None
    assert resolution.reason is Reason.LOOKUP_FAILED


# Responses


def test_provider_route_carries_hidden_key(client: ResolverClient, stubber: Stubber) -> None:
    expect_invoke(stubber, PROVIDER_RESPONSE)

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert resolution.route is Route.PROVIDER
    assert resolution.provider is Provider.OPENROUTER
    assert resolution.base_url == "https://openrouter.ai/api/v1"
    assert resolution.reason is Reason.ACTIVE
    assert resolution.api_key is not None
    assert resolution.api_key.get_secret_value() == OPENROUTER_KEY
    assert OPENROUTER_KEY not in repr(resolution)
    assert OPENROUTER_KEY not in str(resolution)
    assert OPENROUTER_KEY not in resolution.model_dump_json()


def test_platform_route(client: ResolverClient, stubber: Stubber) -> None:
    expect_invoke(stubber, PLATFORM_RESPONSE, usage="voice_seconds")

    resolution = client.resolve("org_123", "voice_seconds")

    assert resolution.route is Route.PLATFORM
    assert resolution.provider is None
    assert resolution.api_key is None
    assert resolution.base_url is None
    assert resolution.reason is Reason.DISABLED


# Cache


def test_response_cached_for_ttl(
    client: ResolverClient, stubber: Stubber, clock: FakeClock
) -> None:
    # Given one invoke
    expect_invoke(stubber, PROVIDER_RESPONSE)
    first = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    # When the same org and usage kind resolve again within the TTL
    clock.now += 4.9
    again = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    # Then no invoke is made (the stubber would raise on an unexpected call)
    assert again == first

    # And after the TTL the resolver is invoked again
    clock.now += 0.1
    expect_invoke(stubber, PLATFORM_RESPONSE)
    assert client.resolve("org_123", UsageKind.MESSAGE_TOKENS).reason is Reason.DISABLED


def test_cache_is_per_org_and_usage(client: ResolverClient, stubber: Stubber) -> None:
    expect_invoke(stubber, PROVIDER_RESPONSE)
    expect_invoke(stubber, PLATFORM_RESPONSE, usage="knowledge_tokens")

    message = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)
    knowledge = client.resolve("org_123", UsageKind.KNOWLEDGE_TOKENS)

    assert message.route is Route.PROVIDER
    assert knowledge.route is Route.PLATFORM


def test_invalidate_forgets_org(client: ResolverClient, stubber: Stubber) -> None:
    expect_invoke(stubber, PROVIDER_RESPONSE)
    client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    client.invalidate("org_123")

    expect_invoke(stubber, PLATFORM_RESPONSE)
    assert client.resolve("org_123", UsageKind.MESSAGE_TOKENS).reason is Reason.DISABLED


def test_invalidate_one_usage_kind(client: ResolverClient, stubber: Stubber) -> None:
    expect_invoke(stubber, PROVIDER_RESPONSE)
    expect_invoke(stubber, PLATFORM_RESPONSE, usage="voice_seconds")
    client.resolve("org_123", UsageKind.MESSAGE_TOKENS)
    client.resolve("org_123", UsageKind.VOICE_SECONDS)

    client.invalidate("org_123", UsageKind.VOICE_SECONDS)

    assert client.resolve("org_123", UsageKind.MESSAGE_TOKENS).route is Route.PROVIDER
    expect_invoke(stubber, PLATFORM_RESPONSE, usage="voice_seconds")
    assert client.resolve("org_123", UsageKind.VOICE_SECONDS).reason is Reason.DISABLED


def test_failure_cached_for_failure_ttl(
    client: ResolverClient, stubber: Stubber, clock: FakeClock
) -> None:
    stubber.add_client_error("invoke", service_error_code="TooManyRequestsException")
    assert_lookup_failed(client.resolve("org_123", UsageKind.MESSAGE_TOKENS))

    clock.now += 0.9
    assert_lookup_failed(client.resolve("org_123", UsageKind.MESSAGE_TOKENS))

    clock.now += 0.1
    expect_invoke(stubber, PROVIDER_RESPONSE)
    assert client.resolve("org_123", UsageKind.MESSAGE_TOKENS).route is Route.PROVIDER


# Failures


@pytest.mark.parametrize(
    "code",
    [
        "TooManyRequestsException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "ServiceException",
    ],
)
def test_invoke_error_is_lookup_failed(
    client: ResolverClient, stubber: Stubber, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    stubber.add_client_error("invoke", service_error_code=code, http_status_code=429)

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert_lookup_failed(resolution)
    assert code in caplog.text
    assert "org_123" in caplog.text


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com/"),
        EndpointConnectionError(endpoint_url="https://lambda.us-east-1.amazonaws.com/"),
    ],
    ids=["read-timeout", "connection"],
)
def test_unreachable_lambda_is_lookup_failed(
    client: ResolverClient, lambda_client: Any, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    def raise_error(**_: Any) -> None:
        raise error

    lambda_client.meta.events.register("before-call.lambda.Invoke", raise_error)

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert_lookup_failed(resolution)
    assert type(error).__name__ in caplog.text


def test_function_error_is_lookup_failed(
    client: ResolverClient, stubber: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    error_payload = {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out"}
    expect_invoke(stubber, error_payload, function_error="Unhandled")

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert_lookup_failed(resolution)
    assert "Unhandled" in caplog.text
    assert "Sandbox.Timedout" in caplog.text


def test_error_object_is_lookup_failed(
    client: ResolverClient, stubber: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    message = "Invalid resolver request. org_id: String should match pattern"
    expect_invoke(stubber, {"error": {"code": "invalid_request", "message": message}})

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert_lookup_failed(resolution)
    assert "invalid_request" in caplog.text
    assert message in caplog.text
    assert caplog.records[-1].levelno == logging.ERROR


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"",
        json.dumps(["provider"]).encode(),
        json.dumps({**PROVIDER_RESPONSE, "api_key": None}).encode(),
        json.dumps({**PROVIDER_RESPONSE, "reason": "disabled"}).encode(),
        json.dumps({**PROVIDER_RESPONSE, "provider": "anthropic"}).encode(),
        json.dumps({**PLATFORM_RESPONSE, "api_key": OPENROUTER_KEY}).encode(),
    ],
    ids=[
        "not-json",
        "empty",
        "list",
        "provider-without-key",
        "provider-with-platform-reason",
        "unknown-provider",
        "platform-with-key",
    ],
)
def test_malformed_response_is_lookup_failed(
    client: ResolverClient, stubber: Stubber, payload: bytes
) -> None:
    # The key guard fails this test if a log line shows the key of a malformed response.
    expect_invoke(stubber, payload)

    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)

    assert_lookup_failed(resolution)


def test_client_imports_no_http_client_or_powertools() -> None:
    script = (
        "import sys; import external_providers.resolver_client; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('httpx', 'requests', 'aws_lambda_powertools')))"
    )

    result = subprocess.run(  # noqa: S603 (a fixed command)
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPOSITORY / "layers" / "shared")},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
