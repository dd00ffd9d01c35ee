"""OpenRouter key checks against recorded OpenRouter responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC

import httpx
import pytest

from external_providers.domain import Status
from external_providers.errors import ProviderUnavailable
from external_providers.providers.openrouter import OpenRouterClient
from external_providers.settings import Settings
from tests.unit.providers.conftest import (
    OPENROUTER_KEY,
    FakeProvider,
    SleepRecorder,
    error_response,
    recorded,
)

KEY = "/api/v1/key"
CREDITS = "/api/v1/credits"
COMPLETIONS = "/api/v1/chat/completions"

# A key without a spending cap on a paid account.
UNCAPPED = {"limit": None, "limit_remaining": None, "is_free_tier": False}


@pytest.fixture
def make_client(
    provider: FakeProvider, sleeps: SleepRecorder, make_settings: Callable[..., Settings]
) -> Callable[..., OpenRouterClient]:
    def make(**settings: object) -> OpenRouterClient:
        return OpenRouterClient(make_settings(**settings), provider.client(), sleep=sleeps)

    return make


@pytest.fixture
def client(make_client: Callable[..., OpenRouterClient]) -> OpenRouterClient:
    return make_client()


def balance(total_credits: float, total_usage: float) -> httpx.Response:
    return httpx.Response(
        200, json={"data": {"total_credits": total_credits, "total_usage": total_usage}}
    )


def test_funded_key_is_active(client: OpenRouterClient, provider: FakeProvider) -> None:
    # Given: a key capped at 100 USD (74.5 left) on an account with 12.25 USD
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_readable"))

    # When
    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    # Then: the balance is lower than the cap, so it is what remains
    assert check.status is Status.ACTIVE
    assert check.reason == ""
    assert check.credit is not None
    assert check.credit.remaining == pytest.approx(12.25)
    assert check.credit.limit == 100
    assert check.credit.currency == "USD"
    assert check.credit.low is False
    assert check.credit.checked_at.tzinfo is UTC
    assert provider.count("POST", COMPLETIONS) == 0


def test_key_cap_lowers_remaining(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script(
        "GET", KEY, recorded("openrouter", "key_valid_paid", limit=10, limit_remaining=3.5)
    )
    provider.script("GET", CREDITS, balance(50.0, 10.0))

    check = client.check_key(OPENROUTER_KEY, allow_spend=False)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining == 3.5
    assert check.credit.limit == 10
    assert check.credit.low is True


def test_uncapped_key_remaining_is_balance(
    client: OpenRouterClient, provider: FakeProvider
) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid", **UNCAPPED))
    provider.script("GET", CREDITS, balance(50.0, 20.0))

    check = client.check_key(OPENROUTER_KEY, allow_spend=False)

    assert check.credit is not None
    assert check.credit.remaining == 30.0
    assert check.credit.limit is None
    assert check.credit.low is False


def test_low_balance_marked_low(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid", **UNCAPPED))
    provider.script("GET", CREDITS, balance(10.0, 8.0))

    check = client.check_key(OPENROUTER_KEY, allow_spend=False)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining == 2.0
    assert check.credit.low is True


def test_never_purchased_has_no_credits(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_never_purchased"))
    provider.script("GET", CREDITS, balance(0.0, 0.0))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert "never purchased credits" in check.reason
    assert "openrouter.ai/settings/credits" in check.reason
    assert provider.count("POST", COMPLETIONS) == 0


def test_key_cap_exhausted(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script(
        "GET", KEY, recorded("openrouter", "key_valid_paid", limit=10, limit_remaining=0)
    )
    provider.script("GET", CREDITS, recorded("openrouter", "credits_readable"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert "spending limit" in check.reason
    assert check.credit is not None
    assert check.credit.remaining == 0
    assert check.credit.limit == 10
    assert provider.count("POST", COMPLETIONS) == 0


@pytest.mark.parametrize(("total_credits", "total_usage"), [(20.0, 20.0), (20.0, 20.5)])
def test_balance_exhausted(
    client: OpenRouterClient, provider: FakeProvider, total_credits: float, total_usage: float
) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid", **UNCAPPED))
    provider.script("GET", CREDITS, balance(total_credits, total_usage))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert "no credits left" in check.reason
    assert check.credit is not None
    assert check.credit.remaining == pytest.approx(total_credits - total_usage)
    assert check.credit.low is True
    assert provider.count("POST", COMPLETIONS) == 0


def test_invalid_key(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_invalid"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INVALID_KEY
    assert check.credit is None
    assert "invalid" in check.reason
    assert "User not found" not in check.reason
    assert len(provider.requests) == 1


@pytest.mark.parametrize("case", ["credits_management_key_required", "key_invalid"])
def test_unreadable_balance_is_unknown(
    client: OpenRouterClient, provider: FakeProvider, case: str
) -> None:
    # Given: /credits rejects the key (403 for an ordinary key, or a transient 401)
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", case))

    # When: spending is not allowed, as in a scheduled check
    check = client.check_key(OPENROUTER_KEY, allow_spend=False)

    # Then: unknown, never zero, and nothing spent
    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining is None
    assert check.credit.limit == 100
    assert check.credit.low is False
    assert provider.count("POST", COMPLETIONS) == 0


def test_probe_disabled_by_setting(
    make_client: Callable[..., OpenRouterClient], provider: FakeProvider
) -> None:
    client = make_client(openrouter_payment_probe=False)
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_management_key_required"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", COMPLETIONS) == 0


def test_probe_confirms_payment(
    make_client: Callable[..., OpenRouterClient], provider: FakeProvider
) -> None:
    client = make_client(openrouter_probe_model="meta-llama/llama-3.2-1b-instruct")
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_management_key_required"))
    provider.script("POST", COMPLETIONS, recorded("openrouter", "completion_ok"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", COMPLETIONS) == 1
    probe = json.loads(provider.requests[-1].content)
    assert probe["model"] == "meta-llama/llama-3.2-1b-instruct"
    assert probe["max_tokens"] == 1
    assert len(probe["messages"]) == 1
    assert probe["messages"][0]["role"] == "user"


def test_probe_payment_refused(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_management_key_required"))
    provider.script("POST", COMPLETIONS, recorded("openrouter", "completion_insufficient_credits"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert "Buy credits" in check.reason
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", COMPLETIONS) == 1


def test_probe_rejects_key(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_management_key_required"))
    provider.script("POST", COMPLETIONS, recorded("openrouter", "key_invalid"))

    check = client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert check.status is Status.INVALID_KEY
    assert check.credit is None


def test_probe_unexpected_status_unavailable(
    client: OpenRouterClient, provider: FakeProvider
) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_management_key_required"))
    provider.script(
        "POST", COMPLETIONS, error_response(404, message="No endpoints found", code=404)
    )

    with pytest.raises(ProviderUnavailable) as raised:
        client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert "HTTP 404" in raised.value.message
    assert "No endpoints found" not in raised.value.message


def test_server_error_unavailable(
    client: OpenRouterClient, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    provider.script("GET", KEY, recorded("openrouter", "server_error"))

    with pytest.raises(ProviderUnavailable) as raised:
        client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert provider.count("GET", KEY) == 3
    assert "OpenRouter" in raised.value.message
    assert "<html>" not in raised.value.message


def test_html_body_with_200_unavailable(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, httpx.Response(200, text="<html><body>Sign in</body></html>"))

    with pytest.raises(ProviderUnavailable) as raised:
        client.check_key(OPENROUTER_KEY, allow_spend=True)

    assert "unexpected response" in raised.value.message
    assert "Sign in" not in raised.value.message


def test_sends_key_as_bearer(client: OpenRouterClient, provider: FakeProvider) -> None:
    provider.script("GET", KEY, recorded("openrouter", "key_valid_paid"))
    provider.script("GET", CREDITS, recorded("openrouter", "credits_readable"))

    client.check_key(OPENROUTER_KEY, allow_spend=False)

    assert [request.headers["Authorization"] for request in provider.requests] == [
        f"Bearer {OPENROUTER_KEY}",
        f"Bearer {OPENROUTER_KEY}",
    ]
