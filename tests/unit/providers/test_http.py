"""Retries, time-outs and error messages of the shared provider request helper."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from external_providers.domain import Provider
from external_providers.errors import ProviderUnavailable
from external_providers.providers.http import (
    BACKOFF_SECONDS,
    ProviderHttp,
    error_body,
    retry_after_seconds,
)
from external_providers.settings import Settings
from tests.unit.providers.conftest import (
    OPENROUTER_BASE_URL,
    OPENROUTER_KEY,
    FakeProvider,
    SleepRecorder,
    error_response,
    recorded,
)

KEY_URL = f"{OPENROUTER_BASE_URL}/key"
KEY_PATH = "/api/v1/key"
COMPLETIONS_URL = f"{OPENROUTER_BASE_URL}/chat/completions"
COMPLETIONS_PATH = "/api/v1/chat/completions"
PROBE = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}


def rate_limited(retry_after: str = "1") -> httpx.Response:
    return httpx.Response(
        429,
        headers={"retry-after": retry_after},
        json={"error": {"message": "Rate limit exceeded", "code": 429}},
    )


@pytest.fixture
def http(
    provider: FakeProvider, sleeps: SleepRecorder, make_settings: Callable[..., Settings]
) -> ProviderHttp:
    return ProviderHttp(Provider.OPENROUTER, make_settings(), provider.client(), sleep=sleeps)


def test_server_error_retried_then_unavailable(
    http: ProviderHttp, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    # Given: OpenRouter keeps failing with its HTML 502 page
    provider.script("GET", KEY_PATH, recorded("openrouter", "server_error"))

    # When
    with pytest.raises(ProviderUnavailable) as raised:
        http.get(KEY_URL, OPENROUTER_KEY)

    # Then: the first attempt and two retries, with a growing backoff
    assert provider.count("GET", KEY_PATH) == 3
    assert sleeps.waits == [BACKOFF_SECONDS, 2 * BACKOFF_SECONDS]
    assert "OpenRouter" in raised.value.message
    assert "HTTP 502" in raised.value.message
    assert "try again" in raised.value.message.lower()
    assert "<html>" not in raised.value.message
    assert OPENROUTER_KEY not in raised.value.message


def test_server_error_then_success(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script(
        "GET",
        KEY_PATH,
        recorded("openrouter", "server_error"),
        recorded("openrouter", "key_valid_paid"),
    )

    response = http.get(KEY_URL, OPENROUTER_KEY)

    assert response.status_code == 200
    assert provider.count("GET", KEY_PATH) == 2


def test_zero_retries_setting(
    provider: FakeProvider, sleeps: SleepRecorder, make_settings: Callable[..., Settings]
) -> None:
    http = ProviderHttp(
        Provider.OPENROUTER, make_settings(provider_max_retries=0), provider.client(), sleep=sleeps
    )
    provider.script("GET", KEY_PATH, recorded("openrouter", "server_error"))

    with pytest.raises(ProviderUnavailable):
        http.get(KEY_URL, OPENROUTER_KEY)

    assert provider.count("GET", KEY_PATH) == 1
    assert sleeps.waits == []


def test_connect_error_retried(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script("GET", KEY_PATH, httpx.ConnectError, recorded("openrouter", "key_valid_paid"))

    response = http.get(KEY_URL, OPENROUTER_KEY)

    assert response.status_code == 200
    assert provider.count("GET", KEY_PATH) == 2


def test_connect_error_on_billable_post_retried(http: ProviderHttp, provider: FakeProvider) -> None:
    # A failed connection never reached the provider, so nothing can be charged twice.
    provider.script(
        "POST", COMPLETIONS_PATH, httpx.ConnectTimeout, recorded("openrouter", "completion_ok")
    )

    response = http.post_billable(COMPLETIONS_URL, OPENROUTER_KEY, PROBE)

    assert response.status_code == 200
    assert provider.count("POST", COMPLETIONS_PATH) == 2


def test_connect_error_exhausted(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script("GET", KEY_PATH, httpx.ConnectError)

    with pytest.raises(ProviderUnavailable) as raised:
        http.get(KEY_URL, OPENROUTER_KEY)

    assert provider.count("GET", KEY_PATH) == 3
    assert "Could not connect to OpenRouter" in raised.value.message


def test_read_timeout_on_get_not_retried(http: ProviderHttp, provider: FakeProvider) -> None:
    # Given: a provider too slow to respond within the time limit, which a retry would not fix
    provider.script("GET", KEY_PATH, httpx.ReadTimeout, recorded("openrouter", "key_valid_paid"))

    # When
    with pytest.raises(ProviderUnavailable) as raised:
        http.get(KEY_URL, OPENROUTER_KEY)

    # Then: Save responds within one time limit per request, well inside API Gateway's 30 s
    assert provider.count("GET", KEY_PATH) == 1
    assert "did not answer within 1 seconds" in raised.value.message


def test_dropped_connection_on_get_retried(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script(
        "GET", KEY_PATH, httpx.RemoteProtocolError, recorded("openrouter", "key_valid_paid")
    )

    response = http.get(KEY_URL, OPENROUTER_KEY)

    assert response.status_code == 200
    assert provider.count("GET", KEY_PATH) == 2


def test_read_timeout_on_billable_post_not_retried(
    http: ProviderHttp, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    # Given: the provider may have charged the request before its response was lost
    provider.script("POST", COMPLETIONS_PATH, httpx.ReadTimeout)

    # When
    with pytest.raises(ProviderUnavailable) as raised:
        http.post_billable(COMPLETIONS_URL, OPENROUTER_KEY, PROBE)

    # Then
    assert provider.count("POST", COMPLETIONS_PATH) == 1
    assert sleeps.waits == []
    assert "did not answer within 1 seconds" in raised.value.message


def test_dropped_connection_on_billable_post_not_retried(
    http: ProviderHttp, provider: FakeProvider
) -> None:
    provider.script("POST", COMPLETIONS_PATH, httpx.RemoteProtocolError)

    with pytest.raises(ProviderUnavailable) as raised:
        http.post_billable(COMPLETIONS_URL, OPENROUTER_KEY, PROBE)

    assert provider.count("POST", COMPLETIONS_PATH) == 1
    assert "connection to OpenRouter failed" in raised.value.message


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
def test_client_errors_not_retried(http: ProviderHttp, provider: FakeProvider, status: int) -> None:
    provider.script("GET", KEY_PATH, error_response(status, message="refused", code=status))

    response = http.get(KEY_URL, OPENROUTER_KEY)

    assert response.status_code == status
    assert provider.count("GET", KEY_PATH) == 1


def test_rate_limit_retried_once(
    http: ProviderHttp, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    provider.script("GET", KEY_PATH, rate_limited("1"), recorded("openrouter", "key_valid_paid"))

    response = http.get(KEY_URL, OPENROUTER_KEY)

    assert response.status_code == 200
    assert provider.count("GET", KEY_PATH) == 2
    assert sleeps.waits == [1.0]


def test_rate_limit_twice_unavailable(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script("GET", KEY_PATH, rate_limited("1"))

    with pytest.raises(ProviderUnavailable) as raised:
        http.get(KEY_URL, OPENROUTER_KEY)

    assert provider.count("GET", KEY_PATH) == 2
    assert "rate limiting" in raised.value.message


def test_long_retry_after_not_retried(
    http: ProviderHttp, provider: FakeProvider, sleeps: SleepRecorder
) -> None:
    provider.script("GET", KEY_PATH, rate_limited("30"))

    with pytest.raises(ProviderUnavailable):
        http.get(KEY_URL, OPENROUTER_KEY)

    assert provider.count("GET", KEY_PATH) == 1
    assert sleeps.waits == []


def test_quota_refusal_returned_not_retried(
    provider: FakeProvider, sleeps: SleepRecorder, make_settings: Callable[..., Settings]
) -> None:
    http = ProviderHttp(
        Provider.OPENAI,
        make_settings(),
        provider.client(),
        is_quota_refusal=lambda response: response.status_code == 429,
        sleep=sleeps,
    )
    provider.script("POST", "/v1/embeddings", recorded("openai", "embeddings_insufficient_quota"))

    response = http.post_billable("https://openai.example/v1/embeddings", "sk-test", {})

    assert response.status_code == 429
    assert provider.count("POST", "/v1/embeddings") == 1
    assert sleeps.waits == []


def test_request_carries_bearer_key(http: ProviderHttp, provider: FakeProvider) -> None:
    provider.script("GET", KEY_PATH, recorded("openrouter", "key_valid_paid"))

    http.get(KEY_URL, OPENROUTER_KEY)

    assert provider.requests[0].headers["Authorization"] == f"Bearer {OPENROUTER_KEY}"


def test_retry_log_names_provider_status_attempt(
    http: ProviderHttp, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    provider.script(
        "GET",
        KEY_PATH,
        recorded("openrouter", "server_error"),
        recorded("openrouter", "key_valid_paid"),
    )

    with caplog.at_level(logging.INFO):
        http.get(KEY_URL, OPENROUTER_KEY)

    retries = [
        record for record in caplog.records if record.getMessage() == "retrying provider request"
    ]
    assert len(retries) == 1
    assert retries[0].__dict__["provider"] == "openrouter"
    assert retries[0].__dict__["status"] == 502
    assert retries[0].__dict__["attempt"] == 1
    assert "Authorization" not in repr(retries[0].__dict__)


def test_retry_after_seconds_forms() -> None:
    in_one_second = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)

    assert retry_after_seconds(httpx.Response(429, headers={"retry-after": "2"})) == 2.0
    assert retry_after_seconds(httpx.Response(429, headers={"retry-after-ms": "20"})) == 0.02
    assert (
        0.0
        <= retry_after_seconds(httpx.Response(429, headers={"retry-after": in_one_second}))
        <= 1.0
    )
    assert (
        retry_after_seconds(httpx.Response(429, headers={"retry-after": "soon"})) == BACKOFF_SECONDS
    )
    assert retry_after_seconds(httpx.Response(429)) == BACKOFF_SECONDS


def test_error_body_of_html_page() -> None:
    body = error_body(recorded("openrouter", "server_error"))

    assert body.type == ""
    assert body.code == ""
    assert body.message == ""


def test_error_body_of_openai_error() -> None:
    body = error_body(recorded("openai", "embeddings_insufficient_quota"))

    assert body.type == "insufficient_quota"
    assert body.code == "insufficient_quota"
