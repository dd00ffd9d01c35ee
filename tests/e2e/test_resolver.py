"""The resolver through the local stack's Lambda Invoke API, as agent services call it.

Keys are saved over HTTP as the dashboard saves them. Each test uses a new org and keys of
its own, so tests share the stack but not its state. The stack runs with the template's
default `ResolverConfigTtlSeconds`, so the tests that watch a change arrive poll for up to
that TTL.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import httpx
import pytest
from botocore.config import Config

from external_providers.domain import Provider, UsageKind
from external_providers.resolver_client import ResolverClient
from external_providers.routing import Reason, Route
from tests.e2e.conftest import PARAMETER_OVERRIDES
from tests.key_guard import assert_no_key

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
EVENTS = REPOSITORY / "events"
TTL_SECONDS = float(PARAMETER_OVERRIDES["ResolverConfigTtlSeconds"])
POLL_SECONDS = 0.2
# Time allowed past the TTL for the invocations themselves: the local stack runs one at a
# time, so a resolve can wait behind another test's request.
GRACE_SECONDS = 2.0

Resolve = Callable[[str], dict[str, Any]]


@pytest.fixture
def org_id() -> str:
    return f"org_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def lambda_client(local_stack: Any) -> LambdaClient:
    client: LambdaClient = boto3.client(
        "lambda",
        endpoint_url=local_stack.lambda_url,
        region_name="us-east-1",
        config=Config(read_timeout=30, retries={"max_attempts": 1}),
    )
    return client


def invoke(lambda_client: LambdaClient, function_name: str, event: Any) -> dict[str, Any]:
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event))
    assert "FunctionError" not in response, response["Payload"].read()
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


@pytest.fixture
def resolve(lambda_client: LambdaClient, org_id: str) -> Resolve:
    """Invoke `ResolverFunction` for the test's org, as the README shows."""

    def call(usage: str) -> dict[str, Any]:
        return invoke(lambda_client, "ResolverFunction", {"org_id": org_id, "usage": usage})

    return call


@pytest.fixture
def owner(local_stack: Any, org_id: str) -> Callable[..., httpx.Response]:
    """Send a dashboard request as the owner of the test's enterprise org."""
    token = local_stack.token(sub="user_owner", org_id=org_id)

    def send(method: str, path: str, **options: Any) -> httpx.Response:
        response = httpx.request(
            method,
            local_stack.api_url + path,
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
            **options,
        )
        assert_no_key(response.text)
        return response

    return send


@pytest.fixture
def new_key(local_stack: Any) -> Callable[..., str]:
    """Make a key that only this test uses, and set how the sandbox responds to it."""

    def make(provider: str, **behaviour: Any) -> str:
        suffix = uuid.uuid4().hex
        key = f"sk-or-v1-{suffix}{suffix}" if provider == "openrouter" else f"sk-proj-{suffix}"
        set_sandbox_key(local_stack, key, provider, **behaviour)
        return key

    return make


def set_sandbox_key(local_stack: Any, key: str, provider: str, **behaviour: Any) -> None:
    response = httpx.post(
        f"{local_stack.sandbox_url}/_sandbox/keys",
        json={"key": key, "provider": provider, "credits": 25.0, **behaviour},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def save(
    owner: Callable[..., httpx.Response], provider: str, key: str, enabled: bool = True
) -> None:
    response = owner("PUT", f"/providers/{provider}", json={"api_key": key, "enabled": enabled})
    assert response.status_code == 200, response.text


def poll(resolve: Resolve, usage: str, done: Callable[[dict[str, Any]], bool]) -> float:
    """Resolve until `done` is true and return the seconds it took; fail after twice the grace."""
    started = time.monotonic()
    while time.monotonic() - started < TTL_SECONDS + 2 * GRACE_SECONDS:
        if done(resolve(usage)):
            return time.monotonic() - started
        time.sleep(POLL_SECONDS)
    pytest.fail(f"the resolver did not show the change within {TTL_SECONDS + 2 * GRACE_SECONDS} s")


def plan_event(org_id: str, plan: str, changed_at: datetime) -> dict[str, Any]:
    """The sample OrgPlanChanged event, for the test's org, plan and time."""
    event: dict[str, Any] = json.loads(
        (EVENTS / "plan_changes" / "org_plan_changed.json").read_text()
    )
    event["time"] = changed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"] = {"org_id": org_id, "plan": plan}
    return event


@pytest.mark.parametrize(
    ("usage", "provider"),
    [
        ("message_tokens", "openrouter"),
        ("voice_seconds", "openai"),
        ("knowledge_tokens", "openai"),
    ],
)
def test_usage_routes_to_saved_key(
    local_stack: Any,
    owner: Callable[..., httpx.Response],
    new_key: Callable[..., str],
    resolve: Resolve,
    usage: str,
    provider: str,
) -> None:
    # Given both providers' keys saved over HTTP
    keys = {name: new_key(name) for name in ("openrouter", "openai")}
    for name, key in keys.items():
        save(owner, name, key)

    # When an agent service resolves a usage kind
    answer = resolve(usage)

    # Then it gets the covering provider's key and the stack's base URL for it
    base_urls = {
        "openrouter": f"{local_stack.sandbox_url}/openrouter/api/v1",
        "openai": f"{local_stack.sandbox_url}/openai/v1",
    }
    assert answer["route"] == "provider"
    assert answer["provider"] == provider
    assert answer["api_key"] == keys[provider]
    assert answer["base_url"] == base_urls[provider]
    assert answer["reason"] == "active"


def test_no_key_is_not_configured(resolve: Resolve) -> None:
    assert resolve("message_tokens") == {
        "route": "platform",
        "provider": None,
        "reason": "not_configured",
    }


def test_switched_off_is_disabled(
    owner: Callable[..., httpx.Response], new_key: Callable[..., str], resolve: Resolve
) -> None:
    save(owner, "openai", new_key("openai"), enabled=False)

    assert resolve("voice_seconds") == {
        "route": "platform",
        "provider": None,
        "reason": "disabled",
    }


def test_exhausted_credit_is_insufficient_credits(
    local_stack: Any,
    owner: Callable[..., httpx.Response],
    new_key: Callable[..., str],
    resolve: Resolve,
) -> None:
    # Given an active key whose account then runs dry
    key = new_key("openrouter")
    save(owner, "openrouter", key)
    set_sandbox_key(local_stack, key, "openrouter", credits=0)

    # When the key is validated again
    validated = owner("POST", "/providers/openrouter/validate")
    assert validated.json()["status"] == "insufficient_credits"

    # Then usage goes to the platform
    assert resolve("message_tokens")["reason"] == "insufficient_credits"


def test_bad_input_is_invalid_request(lambda_client: LambdaClient) -> None:
    answer = invoke(lambda_client, "ResolverFunction", {"org_id": "org_1", "usage": "pixels"})

    assert answer["error"]["code"] == "invalid_request"
    assert "usage:" in answer["error"]["message"]


def test_replaced_key_returned_within_ttl(
    owner: Callable[..., httpx.Response], new_key: Callable[..., str], resolve: Resolve
) -> None:
    # Given a key that a warm resolver has cached
    first = new_key("openrouter")
    save(owner, "openrouter", first)
    assert resolve("message_tokens")["api_key"] == first

    # When the administrator replaces it
    replacement = new_key("openrouter")
    save(owner, "openrouter", replacement)

    # Then the resolver returns the new key within the TTL
    elapsed = poll(resolve, "message_tokens", lambda answer: answer["api_key"] == replacement)
    assert elapsed <= TTL_SECONDS + GRACE_SECONDS


def test_downgraded_org_goes_to_platform_and_back(
    lambda_client: LambdaClient,
    owner: Callable[..., httpx.Response],
    new_key: Callable[..., str],
    resolve: Resolve,
    org_id: str,
) -> None:
    # Given an org whose text usage goes to its own key
    key = new_key("openrouter")
    save(owner, "openrouter", key)
    changed_at = datetime.now(UTC).replace(microsecond=0)

    # When the billing service reports a downgrade, before the resolver caches the org
    downgrade = plan_event(org_id, "pro", changed_at)
    assert invoke(lambda_client, "PlanChangesFunction", downgrade) == {"outcome": "recorded"}

    # Then usage goes to the platform, and the key stays stored
    assert resolve("message_tokens")["reason"] == "not_enterprise"
    assert owner("GET", "/providers/openrouter").json()["configured"] is True

    # When the org returns to the enterprise plan
    upgrade = plan_event(org_id, "enterprise", changed_at + timedelta(seconds=1))
    assert invoke(lambda_client, "PlanChangesFunction", upgrade) == {"outcome": "recorded"}

    # Then its key is used again within the TTL
    elapsed = poll(resolve, "message_tokens", lambda answer: answer["reason"] == "active")
    assert elapsed <= TTL_SECONDS + GRACE_SECONDS
    assert resolve("message_tokens")["api_key"] == key


def test_plan_event_on_bus_reaches_resolver(
    local_stack: Any,
    owner: Callable[..., httpx.Response],
    new_key: Callable[..., str],
    resolve: Resolve,
    org_id: str,
) -> None:
    # Given an org whose voice usage goes to its own key
    save(owner, "openai", new_key("openai"))

    # When the billing service puts a downgrade on the bus, as the template's rule expects
    events = boto3.client("events", endpoint_url=local_stack.aws_url, region_name="us-east-1")
    sample = plan_event(org_id, "pro", datetime.now(UTC))
    result = events.put_events(
        Entries=[
            {
                "Source": sample["source"],
                "DetailType": sample["detail-type"],
                "Detail": json.dumps(sample["detail"]),
                "EventBusName": "default",
            }
        ]
    )
    assert result["FailedEntryCount"] == 0

    # Then the rule delivers it to the plan changes function, and usage goes to the platform
    poll(resolve, "voice_seconds", lambda answer: answer["reason"] == "not_enterprise")


def test_client_resolves_through_invoke_api(
    local_stack: Any,
    owner: Callable[..., httpx.Response],
    new_key: Callable[..., str],
    org_id: str,
) -> None:
    # Given an OpenAI key saved over HTTP
    key = new_key("openai")
    save(owner, "openai", key)
    client = ResolverClient(
        "ResolverFunction", endpoint_url=local_stack.lambda_url, region_name="us-east-1"
    )

    # When the agent services' client resolves voice and text usage
    voice = client.resolve(org_id, UsageKind.VOICE_SECONDS)
    text = client.resolve(org_id, UsageKind.MESSAGE_TOKENS)

    # Then voice goes to OpenAI with the key and text to the platform
    assert voice.route is Route.PROVIDER
    assert voice.provider is Provider.OPENAI
    assert voice.api_key is not None
    assert voice.api_key.get_secret_value() == key
    assert text.route is Route.PLATFORM
    assert text.reason is Reason.NOT_CONFIGURED


def test_client_unknown_function_is_lookup_failed(local_stack: Any, org_id: str) -> None:
    client = ResolverClient(
        "NoSuchFunction", endpoint_url=local_stack.lambda_url, region_name="us-east-1"
    )

    resolution = client.resolve(org_id, UsageKind.MESSAGE_TOKENS)

    assert resolution.route is Route.PLATFORM
    assert resolution.reason is Reason.LOOKUP_FAILED
