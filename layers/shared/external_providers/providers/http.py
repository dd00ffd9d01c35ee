"""Provider requests with a time-out, bounded retries and errors a customer can act on."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from external_providers.domain import Provider
from external_providers.errors import ProviderUnavailable
from external_providers.settings import Settings

logger = Logger(child=True)

# Wait before retry n is n times this, so two retries add 0.75 s at most.
BACKOFF_SECONDS = 0.25

# Maximum Retry-After honoured. A rate limit with a longer Retry-After is not retried, because
# the check runs inside an API request or a scheduled run that must not stall.
MAX_RETRY_AFTER_SECONDS = 2.0

# Errors raised before the request reached the provider: retrying cannot charge twice.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class ErrorBody:
    """Fields of a provider's JSON error body, empty strings where the body has none.

    OpenRouter sends `{"error": {"code": 402, "message"}}` and OpenAI sends
    `{"error": {"message", "type", "param", "code"}}`; `code` is a string for both.
    `message` is the provider's own text: use it to classify, never show or log it,
    because OpenAI's 401 message contains part of the key.
    """

    type: str = ""
    code: str = ""
    message: str = ""


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """Return the response body when it is a JSON object, else None (an HTML error page)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_body(response: httpx.Response) -> ErrorBody:
    """Read the `error` object of a provider's error response, tolerating any other body."""
    body = json_object(response) or {}
    error = body.get("error")
    if not isinstance(error, dict):
        return ErrorBody()
    return ErrorBody(
        type=_text(error.get("type")),
        code=_text(error.get("code")),
        message=_text(error.get("message")),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _never_quota(response: httpx.Response) -> bool:
    return False


class ProviderHttp:
    """Send requests to one provider and return its response, retrying what is safe to retry.

    Failures to connect and 5xx responses are retried `settings.provider_max_retries` times,
    with a short backoff. A read time-out is never retried: a provider that slow would likely
    be as slow again, and Save must respond within API Gateway's 30 seconds. Other transport
    failures (a write time-out, a dropped connection) are retried only for requests that cost
    nothing, because the provider may have charged a billable request whose response was lost.
    A 4xx response is returned to the caller at once, except a 429 rate limit: it is retried
    once after its Retry-After when that is at most `MAX_RETRY_AFTER_SECONDS`.
    `is_quota_refusal` tells a 429 that refuses for lack of money (never retried, returned)
    from a rate limit. When retries run out, `ProviderUnavailable` is raised with a message
    that names the provider and never contains the key or the provider's body.
    """

    def __init__(
        self,
        provider: Provider,
        settings: Settings,
        client: httpx.Client | None = None,
        *,
        is_quota_refusal: Callable[[httpx.Response], bool] = _never_quota,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.provider = provider
        self.name = provider.display_name
        self._client = client if client is not None else httpx.Client()
        self._timeout_seconds = settings.provider_timeout_seconds
        self._timeout = httpx.Timeout(settings.provider_timeout_seconds)
        self._max_retries = settings.provider_max_retries
        self._is_quota_refusal = is_quota_refusal
        self._sleep = sleep

    def get(self, url: str, api_key: str) -> httpx.Response:
        """Send a GET request that costs nothing and may be retried on any failure."""
        return self._send("GET", url, api_key, payload=None, billable=False)

    def post_billable(self, url: str, api_key: str, payload: dict[str, Any]) -> httpx.Response:
        """Send a POST request that the provider may charge for."""
        return self._send("POST", url, api_key, payload=payload, billable=True)

    def unexpected(self, response: httpx.Response, step: str) -> ProviderUnavailable:
        """Log a response the client cannot interpret and return the error to raise for it."""
        logger.warning(
            "unexpected provider response",
            provider=self.provider.value,
            status=response.status_code,
            path=response.request.url.path,
        )
        return ProviderUnavailable(
            f"{self.name} returned an unexpected response (HTTP {response.status_code}) "
            f"while {step}. Try again in a few minutes; contact support if it persists."
        )

    def _send(
        self,
        method: str,
        url: str,
        api_key: str,
        *,
        payload: dict[str, Any] | None,
        billable: bool,
    ) -> httpx.Response:
        failures = 0
        rate_limit_retried = False
        while True:
            attempt = failures + int(rate_limit_retried) + 1
            request = self._client.build_request(
                method,
                url,
                headers={"Authorization": f"Bearer {api_key}"},
                json=payload,
                timeout=self._timeout,
            )
            path = request.url.path

            try:
                response = self._client.send(request)
            except httpx.TransportError as error:
                retryable = isinstance(error, _NOT_SENT_ERRORS) or not (
                    billable or isinstance(error, httpx.ReadTimeout)
                )
                if not retryable or failures >= self._max_retries:
                    self._log_failure(path, type(error).__name__, attempt)
                    raise ProviderUnavailable(self._transport_message(error)) from error
                failures += 1
                self._log_retry(path, type(error).__name__, attempt)
                self._sleep(BACKOFF_SECONDS * failures)
                continue

            if response.is_server_error:
                if failures >= self._max_retries:
                    self._log_failure(path, response.status_code, attempt)
                    raise ProviderUnavailable(
                        f"{self.name} failed with a server error (HTTP {response.status_code}). "
                        "Try again in a few minutes."
                    )
                failures += 1
                self._log_retry(path, response.status_code, attempt)
                self._sleep(BACKOFF_SECONDS * failures)
                continue

            if response.status_code == 429 and not self._is_quota_refusal(response):
                wait = retry_after_seconds(response)
                if rate_limit_retried or wait > MAX_RETRY_AFTER_SECONDS:
                    self._log_failure(path, response.status_code, attempt)
                    raise ProviderUnavailable(
                        f"{self.name} is rate limiting requests made with this key. "
                        "Try again in a minute."
                    )
                rate_limit_retried = True
                self._log_retry(path, response.status_code, attempt)
                self._sleep(wait)
                continue

            return response

    def _transport_message(self, error: httpx.TransportError) -> str:
        if isinstance(error, httpx.TimeoutException):
            return (
                f"{self.name} did not answer within {self._timeout_seconds:g} seconds. "
                "Try again in a few minutes."
            )
        if isinstance(error, httpx.ConnectError):
            return f"Could not connect to {self.name}. Try again in a few minutes."
        return f"The connection to {self.name} failed. Try again in a few minutes."

    def _log_retry(self, path: str, status: int | str, attempt: int) -> None:
        logger.info(
            "retrying provider request",
            provider=self.provider.value,
            path=path,
            status=status,
            attempt=attempt,
        )

    def _log_failure(self, path: str, status: int | str, attempt: int) -> None:
        logger.warning(
            "provider request failed",
            provider=self.provider.value,
            path=path,
            status=status,
            attempt=attempt,
        )


def retry_after_seconds(response: httpx.Response) -> float:
    """Return the wait that a 429 response requests, in seconds.

    Reads the non-standard `retry-after-ms` header first, then `Retry-After` as seconds or
    an HTTP date.
    Without either header, the wait is `BACKOFF_SECONDS`.
    """
    milliseconds = response.headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass

    value = response.headers.get("retry-after")
    if value is None:
        return BACKOFF_SECONDS
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        retry_at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return BACKOFF_SECONDS
    if retry_at.tzinfo is None:
        retry_at = retry_at.replace(tzinfo=UTC)
    return max((retry_at - datetime.now(UTC)).total_seconds(), 0.0)
