from __future__ import annotations

from collections.abc import Iterator

import pytest

from external_providers.aws_clients import AwsClientSettings, clear_clients, dynamodb_client


@pytest.fixture
def fresh_clients() -> Iterator[None]:
    clear_clients()
    yield
    clear_clients()


def test_defaults_fit_the_api() -> None:
    settings = AwsClientSettings()

    assert settings.connect_timeout_seconds == 2.0
    assert settings.read_timeout_seconds == 5.0
    assert settings.max_attempts == 3


def test_environment_sets_client_limits(
    monkeypatch: pytest.MonkeyPatch, fresh_clients: None
) -> None:
    monkeypatch.setenv("AWS_CLIENT_CONNECT_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("AWS_CLIENT_READ_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("AWS_CLIENT_MAX_ATTEMPTS", "2")

    config = dynamodb_client().meta.config

    assert getattr(config, "connect_timeout") == 1.0  # noqa: B009 - untyped in the stubs
    assert getattr(config, "read_timeout") == 0.5  # noqa: B009
    assert getattr(config, "retries") == {"mode": "standard", "total_max_attempts": 2}  # noqa: B009


def test_zero_attempts_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CLIENT_MAX_ATTEMPTS", "0")

    with pytest.raises(ValueError, match="max_attempts"):
        AwsClientSettings()
