"""The registry's choice of client for each provider."""

from __future__ import annotations

from collections.abc import Callable

from external_providers.domain import Provider
from external_providers.providers.openai import OpenAIClient
from external_providers.providers.openrouter import OpenRouterClient
from external_providers.providers.registry import client_for
from external_providers.settings import Settings


def test_client_for_each_provider(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()

    assert isinstance(client_for(Provider.OPENROUTER, settings), OpenRouterClient)
    assert isinstance(client_for(Provider.OPENAI, settings), OpenAIClient)
