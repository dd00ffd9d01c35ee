"""The resolver function against moto's AWS, after keys are saved through the API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from external_providers.aws_clients import dynamodb_client, secrets_client
from external_providers.domain import Provider
from tests.integration.conftest import Api, Sandbox
from tests.integration.resolver.conftest import (
    TTL_SECONDS,
    FakeClock,
    Resolve,
    emitted_metrics,
    resolver_event,
)

REPOSITORY = Path(__file__).resolve().parents[3]

OPENROUTER_KEY = "sk-or-v1-" + "a7" * 32
OPENROUTER_REPLACEMENT = "sk-or-v1-" + "b8" * 32
OPENAI_KEY = "sk-proj-" + "Rk4_z" * 30

PLATFORM_ANSWER_FIELDS = {"route", "provider", "reason"}


def save_key(api: Api, sandbox: Sandbox, provider: str, key: str, **behaviour: Any) -> None:
    sandbox.set_key(key, provider, **behaviour)
    response = api("PUT", f"/providers/{provider}", body={"api_key": key, "enabled": True})
    assert response.status == 200, response.body


def assert_platform(answer: dict[str, Any], reason: str) -> None:
    assert answer["route"] == "platform"
    assert answer["provider"] is None
    assert answer["reason"] == reason
    assert set(answer) == PLATFORM_ANSWER_FIELDS


# Routes


SAVED_KEYS = {"openrouter": OPENROUTER_KEY, "openai": OPENAI_KEY}
BASE_URL_VARIABLES = {"openrouter": "OPENROUTER_BASE_URL", "openai": "OPENAI_BASE_URL"}


@pytest.mark.parametrize(
    ("usage", "provider"),
    [
        ("message_tokens", "openrouter"),
        ("voice_seconds", "openai"),
        ("knowledge_tokens", "openai"),
    ],
)
def test_usage_routes_to_saved_key(
    api: Api, sandbox: Sandbox, resolve: Resolve, usage: str, provider: str
) -> None:
    # Given both providers' keys saved and switched on through the API
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    save_key(api, sandbox, "openai", OPENAI_KEY)

    # When an agent service resolves one usage kind
    answer = resolve(resolver_event(usage))

    # Then it gets the covering provider's key and the base URL from the settings
    assert answer["route"] == "provider"
    assert answer["provider"] == provider
    assert answer["api_key"] == SAVED_KEYS[provider]
    assert answer["base_url"] == os.environ[BASE_URL_VARIABLES[provider]]
    assert answer["reason"] == "active"


def test_no_key_is_not_configured(resolve: Resolve) -> None:
    answer = resolve(resolver_event("message_tokens"))

    assert_platform(answer, "not_configured")


def test_other_provider_key_does_not_cover(api: Api, sandbox: Sandbox, resolve: Resolve) -> None:
    # An OpenAI key never carries text, even for OpenAI's models.
    save_key(api, sandbox, "openai", OPENAI_KEY)

    answer = resolve(resolver_event("message_tokens"))

    assert_platform(answer, "not_configured")


def test_switched_off_is_disabled(
    api: Api, sandbox: Sandbox, resolve: Resolve, clock: FakeClock
) -> None:
    # Given an active key that an agent service already resolved
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    assert resolve(resolver_event("message_tokens"))["route"] == "provider"

    # When the administrator switches the provider off
    api("PUT", "/providers/openrouter", body={"enabled": False})
    clock.advance(TTL_SECONDS)

    # Then the resolver routes to the platform within the TTL
    assert_platform(resolve(resolver_event("message_tokens")), "disabled")


def test_deleted_key_is_not_configured(
    api: Api, sandbox: Sandbox, resolve: Resolve, clock: FakeClock
) -> None:
    save_key(api, sandbox, "openai", OPENAI_KEY)
    assert resolve(resolver_event("voice_seconds"))["route"] == "provider"

    api("DELETE", "/providers/openai")
    clock.advance(TTL_SECONDS)

    assert_platform(resolve(resolver_event("voice_seconds")), "not_configured")


def test_exhausted_credit_is_insufficient_credits(
    api: Api, sandbox: Sandbox, resolve: Resolve, clock: FakeClock
) -> None:
    # Given an active key whose account then runs dry
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    sandbox.set_key(OPENROUTER_KEY, "openrouter", credits=0)

    # When the key is validated again
    validated = api("POST", "/providers/openrouter/validate")
    assert validated.json["status"] == "insufficient_credits"
    clock.advance(TTL_SECONDS)

    # Then usage goes to the platform
    assert_platform(resolve(resolver_event("message_tokens")), "insufficient_credits")


def test_invalid_key_status(api: Api, sandbox: Sandbox, resolve: Resolve) -> None:
    save_key(api, sandbox, "openai", OPENAI_KEY)
    sandbox.set_key(OPENAI_KEY, "openai", valid=False)

    validated = api("POST", "/providers/openai/validate")

    assert validated.json["status"] == "invalid_key"
    assert_platform(resolve(resolver_event("knowledge_tokens")), "invalid_key")


# Cache


def test_replaced_key_returned_after_ttl(
    api: Api, sandbox: Sandbox, resolve: Resolve, clock: FakeClock
) -> None:
    # Given a key that an agent service already resolved
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_KEY

    # When the administrator replaces it
    save_key(api, sandbox, "openrouter", OPENROUTER_REPLACEMENT)

    # Then a warm resolver keeps the cached key until the TTL ends, then returns the new one
    clock.advance(TTL_SECONDS - 0.1)
    assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_KEY
    clock.advance(0.1)
    assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_REPLACEMENT


def test_zero_ttl_reads_every_time(
    api: Api, sandbox: Sandbox, resolve: Resolve, monkeypatch: pytest.MonkeyPatch
) -> None:
    from external_providers.resolver import build_resolver, get_resolver_settings
    from functions.resolver import app

    monkeypatch.setenv("RESOLVER_CONFIG_TTL_SECONDS", "0")
    get_resolver_settings.cache_clear()
    monkeypatch.setattr(app, "_resolver", build_resolver(get_resolver_settings()))
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_KEY

    save_key(api, sandbox, "openrouter", OPENROUTER_REPLACEMENT)

    assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_REPLACEMENT


def test_warm_resolve_makes_no_aws_call(
    api: Api,
    sandbox: Sandbox,
    resolve: Resolve,
    clock: FakeClock,
    aws_calls: Counter[str],
) -> None:
    # Given both keys saved
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    save_key(api, sandbox, "openai", OPENAI_KEY)
    aws_calls.clear()

    # When every usage kind is resolved once: one read of the org, one per secret
    for usage in ("message_tokens", "voice_seconds", "knowledge_tokens"):
        assert resolve(resolver_event(usage))["route"] == "provider"
    assert aws_calls == Counter({"BatchGetItem": 1, "GetSecretValue": 2})

    # Then further resolves within the TTL make no AWS call at all
    aws_calls.clear()
    for _ in range(20):
        clock.advance(TTL_SECONDS / 25)
        for usage in ("message_tokens", "voice_seconds", "knowledge_tokens"):
            assert resolve(resolver_event(usage))["route"] == "provider"
    assert aws_calls == Counter()


def test_secret_read_once_per_key_version(
    api: Api,
    sandbox: Sandbox,
    resolve: Resolve,
    clock: FakeClock,
    aws_calls: Counter[str],
) -> None:
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    aws_calls.clear()

    # Many TTLs pass with the same key version: the state is read again, the secret is not
    for _ in range(4):
        assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_KEY
        clock.advance(TTL_SECONDS)
    assert aws_calls == Counter({"BatchGetItem": 4, "GetSecretValue": 1})

    # A new key version is read once
    save_key(api, sandbox, "openrouter", OPENROUTER_REPLACEMENT)
    aws_calls.clear()
    for _ in range(3):
        assert resolve(resolver_event("message_tokens"))["api_key"] == OPENROUTER_REPLACEMENT
        clock.advance(TTL_SECONDS)
    assert aws_calls == Counter({"BatchGetItem": 3, "GetSecretValue": 1})


# Bad input


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"usage": "message_tokens"}, "org_id"),
        ({"org_id": "org_123"}, "usage"),
        ({"org_id": "org_123", "usage": "image_tokens"}, "usage"),
        ({"org_id": "org 123", "usage": "message_tokens"}, "org_id"),
        ({"org_id": "", "usage": "message_tokens"}, "org_id"),
        ({"org_id": 123, "usage": "message_tokens"}, "org_id"),
        ({"org_id": "o" * 65, "usage": "message_tokens"}, "org_id"),
        ([], "request"),
        ("org_123", "request"),
        (None, "request"),
    ],
)
def test_bad_input_is_invalid_request(resolve: Resolve, event: Any, field: str) -> None:
    answer = resolve(event)

    assert set(answer) == {"error"}
    assert answer["error"]["code"] == "invalid_request"
    assert answer["error"]["message"].startswith("Invalid resolver request.")
    assert f"{field}:" in answer["error"]["message"]


def test_invalid_request_never_echoes_input(resolve: Resolve) -> None:
    pasted_key = "sk-or-v1-" + "d9" * 32

    answer = resolve({"org_id": pasted_key, "usage": pasted_key})

    assert answer["error"]["code"] == "invalid_request"
    assert pasted_key not in answer["error"]["message"]


# Failures to read AWS


def lookup_failures(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [record for record in caplog.records if record.getMessage().startswith("lookup failed")]


def throttled(stubber: Stubber, operation: str, code: str) -> None:
    stubber.add_client_error(operation, service_error_code=code, http_status_code=400)


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "AccessDeniedException"],
)
def test_table_error_is_lookup_failed(
    resolve: Resolve,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    code: str,
) -> None:
    with Stubber(dynamodb_client()) as stubber:
        throttled(stubber, "batch_get_item", code)

        answer = resolve(resolver_event("message_tokens"))

    assert_platform(answer, "lookup_failed")
    assert emitted_metrics(capsys.readouterr().out) == ["ResolverLookupFailed"]
    [record] = lookup_failures(caplog)
    assert record.error_code == code
    assert record.org_id == "org_123"
    assert record.usage == "message_tokens"


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "AccessDeniedException", "ResourceNotFoundException"]
)
def test_secret_error_is_lookup_failed(
    api: Api,
    sandbox: Sandbox,
    resolve: Resolve,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    code: str,
) -> None:
    save_key(api, sandbox, "openai", OPENAI_KEY)
    capsys.readouterr()

    with Stubber(secrets_client()) as stubber:
        throttled(stubber, "get_secret_value", code)

        answer = resolve(resolver_event("voice_seconds"))

    assert_platform(answer, "lookup_failed")
    assert emitted_metrics(capsys.readouterr().out) == ["ResolverLookupFailed"]
    [record] = lookup_failures(caplog)
    assert record.error_code == code
    assert record.provider == "openai"


def raise_on_call(error: Exception) -> Any:
    def handler(**_: Any) -> None:
        raise error

    return handler


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/"),
    ],
    ids=["read-timeout", "connection"],
)
def test_table_unreachable_is_lookup_failed(
    resolve: Resolve,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    client = dynamodb_client()
    handler = raise_on_call(error)
    client.meta.events.register("before-call.dynamodb.BatchGetItem", handler)
    try:
        answer = resolve(resolver_event("knowledge_tokens"))
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchGetItem", handler)

    assert_platform(answer, "lookup_failed")
    assert emitted_metrics(capsys.readouterr().out) == ["ResolverLookupFailed"]
    [record] = lookup_failures(caplog)
    assert record.error_type == type(error).__name__


def test_secret_unreachable_is_lookup_failed(
    api: Api, sandbox: Sandbox, resolve: Resolve, capsys: pytest.CaptureFixture[str]
) -> None:
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    capsys.readouterr()
    client = secrets_client()
    handler = raise_on_call(
        ReadTimeoutError(endpoint_url="https://secretsmanager.us-east-1.amazonaws.com/")
    )
    client.meta.events.register("before-call.secrets-manager.GetSecretValue", handler)
    try:
        answer = resolve(resolver_event("message_tokens"))
    finally:
        client.meta.events.unregister("before-call.secrets-manager.GetSecretValue", handler)

    assert_platform(answer, "lookup_failed")
    assert emitted_metrics(capsys.readouterr().out) == ["ResolverLookupFailed"]


def test_failed_lookup_is_not_cached(
    api: Api, sandbox: Sandbox, resolve: Resolve, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a lookup that failed once
    save_key(api, sandbox, "openrouter", OPENROUTER_KEY)
    with Stubber(dynamodb_client()) as stubber:
        throttled(stubber, "batch_get_item", "ThrottlingException")
        assert resolve(resolver_event("message_tokens"))["reason"] == "lookup_failed"

    # When the table can be read again, within the TTL
    answer = resolve(resolver_event("message_tokens"))

    # Then the next resolve reads it and routes to the provider
    assert answer["route"] == "provider"
    assert answer["api_key"] == OPENROUTER_KEY


def test_unprocessed_keys_are_retried(resolve: Resolve) -> None:
    from external_providers.stores.routing_state import RoutingStateStore

    store = RoutingStateStore(dynamodb_client(), "ProvidersTable", sleep=lambda _: None)
    org_keys = [
        {"pk": {"S": "ORG#org_123"}, "sk": {"S": sort_key}}
        for sort_key in ("PROVIDER#openrouter", "PROVIDER#openai", "PLAN")
    ]
    plan_item = {**org_keys[2], "org_id": {"S": "org_123"}, "plan": {"S": "pro"}}
    plan_item["changed_at"] = {"S": "2026-12-04T19:00:00.000000Z"}

    with Stubber(dynamodb_client()) as stubber:
        stubber.add_response(
            "batch_get_item",
            {
                "Responses": {"ProvidersTable": []},
                "UnprocessedKeys": {"ProvidersTable": {"Keys": [org_keys[2]]}},
            },
        )
        stubber.add_response("batch_get_item", {"Responses": {"ProvidersTable": [plan_item]}})

        state = store.read("org_123")

    assert state.plan == "pro"
    assert state.configs[Provider.OPENROUTER].configured is False


def test_unprocessed_keys_after_retries_are_lookup_failed(
    resolve: Resolve, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from external_providers.stores import routing_state

    unprocessed = {
        "Responses": {"ProvidersTable": []},
        "UnprocessedKeys": {
            "ProvidersTable": {"Keys": [{"pk": {"S": "ORG#org_123"}, "sk": {"S": "PLAN"}}]}
        },
    }
    with Stubber(dynamodb_client()) as stubber:
        for _ in range(routing_state.MAX_ATTEMPTS):
            stubber.add_response("batch_get_item", unprocessed)

        answer = resolve(resolver_event("message_tokens"))

    assert_platform(answer, "lookup_failed")
    assert emitted_metrics(capsys.readouterr().out) == ["ResolverLookupFailed"]
    [record] = lookup_failures(caplog)
    assert record.error_type == "IncompleteRead"


# Imports


def test_handler_imports_no_http_client() -> None:
    # Lambda's environment: tracing is on, so the tracer patches the modules it is given.
    script = (
        "import sys; import functions.resolver.app; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('httpx', 'requests') "
        "or m.startswith(('external_providers.providers', 'external_providers.composition'))]; "
        "print(sorted(loaded))"
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{REPOSITORY / 'layers' / 'shared'}:{REPOSITORY}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": str(REPOSITORY / "functions" / "resolver"),
        "POWERTOOLS_SERVICE_NAME": "external-providers",
    }

    result = subprocess.run(  # noqa: S603 (a fixed command)
        [sys.executable, "-c", script],
        env=environment,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
