"""The provider clients against the provider sandbox served on a local port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from external_providers.domain import Provider, Status
from external_providers.errors import ProviderUnavailable
from external_providers.providers.base import KeyCheck
from external_providers.providers.registry import client_for
from external_providers.settings import Settings
from local.sandbox import DEMO_KEYS, DemoKey, serve
from tests.key_guard import assert_no_key

DEMO = {demo.name: demo for demo in DEMO_KEYS}

# Fake keys unknown to the sandbox until a test sets them.
UNKNOWN_OPENROUTER_KEY = "sk-or-v1-" + "7d" * 32
UNKNOWN_OPENAI_KEY = "sk-proj-" + "Xy" * 78
UNKNOWN_KEY_BODY = {"key": UNKNOWN_OPENROUTER_KEY, "provider": "openrouter"}


@pytest.fixture(scope="module")
def sandbox_base_url() -> Iterator[str]:
    server = serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sandbox(sandbox_base_url: str) -> Iterator[str]:
    """The sandbox's base URL, with the demo keys restored after the test."""
    yield sandbox_base_url
    httpx.post(f"{sandbox_base_url}/_sandbox/reset").raise_for_status()


@pytest.fixture
def make_settings(sandbox: str) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "table_name": "providers-test",
            "secret_name_prefix": "external-providers-test/",
            "openrouter_base_url": f"{sandbox}/openrouter/api/v1",
            "openai_base_url": f"{sandbox}/openai/v1",
            "provider_timeout_seconds": 2.0,
            "provider_max_retries": 1,
        }
        values.update(overrides)
        return Settings(**values)

    return make


def check(settings: Settings, provider: str, key: str, *, allow_spend: bool = True) -> KeyCheck:
    return client_for(Provider(provider), settings).check_key(key, allow_spend=allow_spend)


def set_key(sandbox: str, body: dict[str, Any]) -> httpx.Response:
    response = httpx.post(f"{sandbox}/_sandbox/keys", json=body)
    assert_no_key(response.text)
    return response


SAVE_OUTCOMES = [
    ("openrouter-funded", Status.ACTIVE),
    ("openrouter-balance-unreadable", Status.ACTIVE),
    ("openrouter-unreadable-empty", Status.INSUFFICIENT_CREDITS),
    ("openrouter-never-purchased", Status.INSUFFICIENT_CREDITS),
    ("openrouter-exhausted", Status.INSUFFICIENT_CREDITS),
    ("openrouter-low", Status.ACTIVE),
    ("openrouter-key-limit-reached", Status.INSUFFICIENT_CREDITS),
    ("openai-project", Status.ACTIVE),
    ("openai-legacy", Status.ACTIVE),
    ("openai-restricted", Status.ACTIVE),
    ("openai-no-quota", Status.INSUFFICIENT_CREDITS),
    ("openai-no-embeddings", Status.INSUFFICIENT_SCOPE),
]


@pytest.mark.parametrize(("name", "expected"), SAVE_OUTCOMES)
def test_demo_key_on_save(
    make_settings: Callable[..., Settings], name: str, expected: Status
) -> None:
    demo = DEMO[name]

    result = check(make_settings(), demo.provider, demo.key)

    assert result.status is expected
    assert (result.reason == "") is (expected is Status.ACTIVE)
    assert_no_key(result.reason, "reason")


def test_every_demo_key_has_an_expectation() -> None:
    slow = {name for name in DEMO if name.endswith("-slow")}

    assert {name for name, _ in SAVE_OUTCOMES} | slow == set(DEMO)


def test_funded_openrouter_credit(make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openrouter-funded"]

    result = check(make_settings(), demo.provider, demo.key)

    assert result.credit is not None
    assert result.credit.remaining == 25.0
    assert result.credit.limit is None
    assert result.credit.low is False


def test_low_openrouter_credit(make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openrouter-low"]

    result = check(make_settings(), demo.provider, demo.key)

    assert result.credit is not None
    assert result.credit.remaining == 2.0
    assert result.credit.low is True


def test_key_limit_reached_credit(make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openrouter-key-limit-reached"]

    result = check(make_settings(), demo.provider, demo.key)

    assert result.credit is not None
    assert result.credit.remaining == 0.0
    assert result.credit.limit == 10.0


def test_unreadable_balance_unknown_without_spend(
    make_settings: Callable[..., Settings],
) -> None:
    demo = DEMO["openrouter-unreadable-empty"]

    result = check(make_settings(), demo.provider, demo.key, allow_spend=False)

    assert result.status is Status.ACTIVE
    assert result.credit is not None
    assert result.credit.remaining is None


def test_openai_quota_invisible_without_spend(make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openai-no-quota"]

    result = check(make_settings(), demo.provider, demo.key, allow_spend=False)

    assert result.status is Status.ACTIVE


@pytest.mark.parametrize(
    ("provider", "key"), [("openrouter", UNKNOWN_OPENROUTER_KEY), ("openai", UNKNOWN_OPENAI_KEY)]
)
def test_unknown_key_is_invalid(
    make_settings: Callable[..., Settings], provider: str, key: str
) -> None:
    result = check(make_settings(), provider, key)

    assert result.status is Status.INVALID_KEY
    assert result.credit is None


def test_key_set_invalid(sandbox: str, make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openrouter-funded"]
    set_key(sandbox, {**demo.control_body(), "valid": False})

    result = check(make_settings(), demo.provider, demo.key)

    assert result.status is Status.INVALID_KEY


def test_probes_draw_on_credits(sandbox: str, make_settings: Callable[..., Settings]) -> None:
    # Given: an unreadable balance that pays for exactly one minimal completion
    response = set_key(
        sandbox,
        {
            "key": UNKNOWN_OPENROUTER_KEY,
            "provider": "openrouter",
            "credits": 0.00001,
            "credits_readable": False,
        },
    )
    assert response.status_code == 200

    # When: two Saves probe the account
    first = check(make_settings(), "openrouter", UNKNOWN_OPENROUTER_KEY)
    second = check(make_settings(), "openrouter", UNKNOWN_OPENROUTER_KEY)

    # Then
    assert first.status is Status.ACTIVE
    assert second.status is Status.INSUFFICIENT_CREDITS


def test_reset_restores_demo_keys(sandbox: str, make_settings: Callable[..., Settings]) -> None:
    demo = DEMO["openrouter-funded"]
    set_key(sandbox, {**demo.control_body(), "credits": 0})
    exhausted = check(make_settings(), demo.provider, demo.key)

    httpx.post(f"{sandbox}/_sandbox/reset").raise_for_status()
    restored = check(make_settings(), demo.provider, demo.key)

    assert exhausted.status is Status.INSUFFICIENT_CREDITS
    assert restored.status is Status.ACTIVE


@pytest.mark.parametrize("name", ["openrouter-slow", "openai-slow"])
def test_slow_demo_key_times_out(make_settings: Callable[..., Settings], name: str) -> None:
    demo: DemoKey = DEMO[name]
    settings = make_settings(provider_timeout_seconds=0.2, provider_max_retries=1)

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as raised:
        check(settings, demo.provider, demo.key)
    elapsed = time.monotonic() - started

    assert "did not answer within 0.2 seconds" in raised.value.message
    assert elapsed < 3.0


def test_latency_below_timeout_succeeds(
    sandbox: str, make_settings: Callable[..., Settings]
) -> None:
    set_key(sandbox, {"key": UNKNOWN_OPENAI_KEY, "provider": "openai", "latency_ms": 100})

    result = check(make_settings(provider_timeout_seconds=2.0), "openai", UNKNOWN_OPENAI_KEY)

    assert result.status is Status.ACTIVE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"provider": "openrouter"}, "key: Field required"),
        ({**UNKNOWN_KEY_BODY, "provider": "anthropic"}, "provider:"),
        ({**UNKNOWN_KEY_BODY, "credits": "ten"}, "credits:"),
        ({**UNKNOWN_KEY_BODY, "latency_ms": -1}, "latency_ms:"),
        ({**UNKNOWN_KEY_BODY, "colour": "red"}, "colour is not a known field"),
        ({UNKNOWN_OPENROUTER_KEY: True, "provider": "openrouter"}, "named like a key"),
    ],
)
def test_control_route_rejects_bad_body(sandbox: str, body: dict[str, Any], expected: str) -> None:
    response = set_key(sandbox, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert expected in response.json()["error"]["message"]


def test_control_route_rejects_non_json(sandbox: str) -> None:
    response = httpx.post(f"{sandbox}/_sandbox/keys", content=b"key=sk-or-v1-abc")

    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]["message"]


def test_control_route_hides_key(sandbox: str) -> None:
    response = set_key(sandbox, {"key": UNKNOWN_OPENAI_KEY, "provider": "openai"})

    assert response.status_code == 200
    assert UNKNOWN_OPENAI_KEY not in response.text
    assert response.json()["settings"]["credits"] == 12.5


def test_openrouter_missing_auth(sandbox: str) -> None:
    response = httpx.get(f"{sandbox}/openrouter/api/v1/key")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "No auth credentials found"


def test_openrouter_models_public(sandbox: str) -> None:
    response = httpx.get(f"{sandbox}/openrouter/api/v1/models")

    assert response.status_code == 200
    assert response.json()["data"]


def test_openai_unknown_key_masked(sandbox: str) -> None:
    response = httpx.get(
        f"{sandbox}/openai/v1/models", headers={"Authorization": f"Bearer {UNKNOWN_OPENAI_KEY}"}
    )

    error = response.json()["error"]
    assert response.status_code == 401
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: sk-proj-***")
    assert UNKNOWN_OPENAI_KEY[-4:] + "." in error["message"]
    assert_no_key(response.text)
