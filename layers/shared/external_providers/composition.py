"""Builds the service objects from the settings, in the one place tests can replace."""

from __future__ import annotations

from functools import partial

from external_providers.aws_clients import dynamodb_client
from external_providers.provider_service import ProviderService
from external_providers.providers.registry import client_for
from external_providers.settings import Settings
from external_providers.stores.provider_store import ProviderStore
from external_providers.stores.secret_store import SecretStore


def build_provider_service(settings: Settings) -> ProviderService:
    return ProviderService(
        store=ProviderStore(dynamodb_client(), settings.table_name),
        secrets=SecretStore.from_settings(settings),
        client_for=partial(client_for, settings=settings),
    )
