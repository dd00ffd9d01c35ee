"""The client that checks keys of each provider."""

from __future__ import annotations

from functools import cache

import httpx

from external_providers.domain import Provider
from external_providers.providers.base import ProviderClient
from external_providers.providers.openai import OpenAIClient
from external_providers.providers.openrouter import OpenRouterClient
from external_providers.settings import Settings


@cache
def shared_http_client() -> httpx.Client:
    """Return the process's HTTP client, created on first use.

    A warm Lambda container reuses its connections across invocations. Time-outs are set
    on each request from the settings, so one client serves any settings.
    """
    return httpx.Client()


def client_for(provider: Provider, settings: Settings) -> ProviderClient:
    """Return the client that checks keys of `provider`."""
    match provider:
        case Provider.OPENROUTER:
            return OpenRouterClient(settings, shared_http_client())
        case Provider.OPENAI:
            return OpenAIClient(settings, shared_http_client())
