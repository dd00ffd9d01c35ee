"""Fixtures for the provider clients: recorded responses replayed through httpx.MockTransport."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from external_providers.settings import Settings

RECORDED = json.loads(
    (Path(__file__).parents[2] / "fixtures" / "provider_responses.json").read_text()
)

# Reserved `.example` hosts never resolve, so no request can reach a real provider.
OPENROUTER_BASE_URL = "https://openrouter.example/api/v1"
OPENAI_BASE_URL = "https://openai.example/v1"

# Fake keys of the real shapes and lengths.
OPENROUTER_KEY = "sk-or-v1-" + "5e" * 32
OPENAI_KEY = "sk-proj-" + "Q7" * 78

Outcome = httpx.Response | type[httpx.TransportError]


def recorded(provider: str, case: str, **data: Any) -> httpx.Response:
    """Return a recorded response; `data` replaces fields of its `data` object."""
    entry = RECORDED[provider][case]
    body = copy.deepcopy(entry["body"])
    if data:
        body["data"].update(data)
    headers = entry["headers"]
    if isinstance(body, str):
        return httpx.Response(entry["status"], headers=headers, text=body)
    return httpx.Response(entry["status"], headers=headers, json=body)


def error_response(status: int, **error: Any) -> httpx.Response:
    """Return a JSON error response in the providers' `{"error": {...}}` shape."""
    return httpx.Response(status, json={"error": error})


class FakeProvider:
    """Replay scripted outcomes per method and path, and record every request received.

    Each request takes the next outcome of its route; the last one repeats. An outcome that
    is an httpx transport error class is raised as that error.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self._scripts: dict[tuple[str, str], list[Outcome]] = {}

    def script(self, method: str, path: str, *outcomes: Outcome) -> None:
        self._scripts[(method, path)] = list(outcomes)

    def count(self, method: str, path: str) -> int:
        return sum(
            1 for request in self.requests if (request.method, request.url.path) == (method, path)
        )

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        script = self._scripts.get((request.method, request.url.path))
        if not script:
            return error_response(404, message="no scripted response", code=404)

        outcome = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(outcome, httpx.Response):
            return outcome
        raise outcome("scripted transport failure", request=request)


class SleepRecorder:
    """Stand-in for `time.sleep` that records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "table_name": "providers-test",
            "secret_name_prefix": "external-providers-test/",
            "openrouter_base_url": OPENROUTER_BASE_URL,
            "openai_base_url": OPENAI_BASE_URL,
            "provider_timeout_seconds": 1.0,
            "provider_max_retries": 2,
            "low_credit_threshold_usd": 5.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make
