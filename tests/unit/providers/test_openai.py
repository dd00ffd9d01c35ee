"""OpenAI key checks against recorded OpenAI responses."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from external_providers.domain import Status
from external_providers.errors import ProviderUnavailable
from external_providers.providers.openai import OpenAIClient
from external_providers.settings import Settings
from tests.unit.providers.conftest import (
    OPENAI_KEY,
    FakeProvider,
    SleepRecorder,
    error_response,
    recorded,
)

MODELS = "/v1/models"
EMBEDDINGS = "/v1/embeddings"

MISSING_SCOPES_MESSAGE = (
    "You have insufficient permissions for this operation. Missing scopes: api.model.read."
)


@pytest.fixture
def make_client(
    provider: FakeProvider, sleeps: SleepRecorder, make_settings: Callable[..., Settings]
) -> Callable[..., OpenAIClient]:
    def make(**settings: object) -> OpenAIClient:
        return OpenAIClient(make_settings(**settings), provider.client(), sleep=sleeps)

    return make


@pytest.fixture
def client(make_client: Callable[..., OpenAIClient]) -> OpenAIClient:
    return make_client()


def missing_scopes(status: int = 403) -> httpx.Response:
    return error_response(
        status, message=MISSING_SCOPES_MESSAGE, type="invalid_request_error", param=None, code=None
    )


def quota_refusal(code: str) -> httpx.Response:
    return error_response(
        429, message="You exceeded your current quota.", type="insufficient_quota", code=code
    )


def test_funded_key_is_active(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, recorded("openai", "embeddings_ok"))

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.ACTIVE
    assert check.reason == ""
    assert check.credit is not None
    assert check.credit.remaining is None
    assert check.credit.limit is None
    assert check.credit.low is False
    assert provider.count("POST", EMBEDDINGS) == 1


def test_embedding_probe_request(
    make_client: Callable[..., OpenAIClient], provider: FakeProvider
) -> None:
    client = make_client(openai_probe_model="text-embedding-3-large")
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, recorded("openai", "embeddings_ok"))

    client.check_key(OPENAI_KEY, allow_spend=True)

    probe = json.loads(provider.requests[-1].content)
    assert probe["model"] == "text-embedding-3-large"
    assert isinstance(probe["input"], str)
    assert len(probe["input"].split()) == 1
    assert provider.requests[-1].headers["Authorization"] == f"Bearer {OPENAI_KEY}"


def test_no_spend_stops_after_models(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))

    check = client.check_key(OPENAI_KEY, allow_spend=False)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", EMBEDDINGS) == 0


def test_invalid_key(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_invalid_key"))

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INVALID_KEY
    assert check.credit is None
    assert "platform.openai.com/api-keys" in check.reason
    assert "wxyz" not in check.reason
    assert "Incorrect API key" not in check.reason
    assert provider.count("POST", EMBEDDINGS) == 0


def test_mismatched_organization_is_invalid(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script(
        "GET",
        MODELS,
        error_response(
            401,
            message="OpenAI-Organization header should match organization for API key",
            type="invalid_request_error",
            code="mismatched_organization",
        ),
    )

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INVALID_KEY


@pytest.mark.parametrize("status", [403, 401])
def test_models_missing_scopes_then_active(
    client: OpenAIClient, provider: FakeProvider, status: int
) -> None:
    # Given: a restricted key that may not list models (403, or 401 as publicly reported)
    provider.script("GET", MODELS, missing_scopes(status))
    provider.script("POST", EMBEDDINGS, recorded("openai", "embeddings_ok"))

    # When
    check = client.check_key(OPENAI_KEY, allow_spend=True)

    # Then: the embedding shows the key works
    assert check.status is Status.ACTIVE
    assert provider.count("POST", EMBEDDINGS) == 1


def test_models_missing_scopes_without_spend(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, missing_scopes())

    check = client.check_key(OPENAI_KEY, allow_spend=False)

    assert check.status is Status.ACTIVE
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", EMBEDDINGS) == 0


def test_no_embeddings_scope(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, missing_scopes())

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_SCOPE
    assert "embeddings" in check.reason
    assert "Missing scopes" not in check.reason


def test_embeddings_invalid_key(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, recorded("openai", "models_invalid_key"))

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INVALID_KEY
    assert check.credit is None


def test_insufficient_quota_not_retried(
    client: OpenAIClient, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, recorded("openai", "embeddings_insufficient_quota"))

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert "billing" in check.reason
    assert check.credit is not None
    assert check.credit.remaining is None
    assert provider.count("POST", EMBEDDINGS) == 1
    assert sleeps.waits == []


@pytest.mark.parametrize(
    "code", ["credit_balance_exhausted", "project_spend_limit_exceeded", "insufficient_quota"]
)
def test_quota_codes_are_insufficient_credits(
    client: OpenAIClient, provider: FakeProvider, code: str
) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, quota_refusal(code))

    check = client.check_key(OPENAI_KEY, allow_spend=True)

    assert check.status is Status.INSUFFICIENT_CREDITS
    assert provider.count("POST", EMBEDDINGS) == 1


def test_rate_limit_retried_once(
    client: OpenAIClient, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    # Given: one rate limit with Retry-After: 2, then success
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script(
        "POST",
        EMBEDDINGS,
        recorded("openai", "embeddings_rate_limited"),
        recorded("openai", "embeddings_ok"),
    )

    # When
    check = client.check_key(OPENAI_KEY, allow_spend=True)

    # Then
    assert check.status is Status.ACTIVE
    assert provider.count("POST", EMBEDDINGS) == 2
    assert sleeps.waits == [2.0]


def test_rate_limit_persists_unavailable(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, recorded("openai", "embeddings_rate_limited"))

    with pytest.raises(ProviderUnavailable) as raised:
        client.check_key(OPENAI_KEY, allow_spend=True)

    assert provider.count("POST", EMBEDDINGS) == 2
    assert "OpenAI" in raised.value.message
    assert "org-xxxx" not in raised.value.message


def test_read_timeout_on_embeddings_not_retried(
    client: OpenAIClient, provider: FakeProvider
) -> None:
    provider.script("GET", MODELS, recorded("openai", "models_ok"))
    provider.script("POST", EMBEDDINGS, httpx.ReadTimeout)

    with pytest.raises(ProviderUnavailable):
        client.check_key(OPENAI_KEY, allow_spend=True)

    assert provider.count("POST", EMBEDDINGS) == 1


def test_models_server_error_retried(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script(
        "GET",
        MODELS,
        httpx.Response(503, text="<html>Service Unavailable</html>"),
        recorded("openai", "models_ok"),
    )

    check = client.check_key(OPENAI_KEY, allow_spend=False)

    assert check.status is Status.ACTIVE
    assert provider.count("GET", MODELS) == 2


def test_unsupported_region_unavailable(client: OpenAIClient, provider: FakeProvider) -> None:
    provider.script(
        "GET",
        MODELS,
        error_response(
            403,
            message="Country, region, or territory not supported",
            type="request_forbidden",
            code="unsupported_country_region_territory",
        ),
    )

    with pytest.raises(ProviderUnavailable) as raised:
        client.check_key(OPENAI_KEY, allow_spend=True)

    assert "region" in raised.value.message
    assert provider.count("POST", EMBEDDINGS) == 0
