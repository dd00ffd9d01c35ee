"""The resolver: the route, key and base URL an agent service uses for its next model call.

It is on the path of every agent message, so a warm container reads an org's routing state
at most once per config TTL and a secret only when the stored key version changes. Any
failure to read AWS routes to the platform with `lookup_failed` instead of raising.
This module imports no provider client and no HTTP library, to keep cold starts short.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from functools import lru_cache

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, SecretStr, ValidationError

from external_providers.aws_clients import dynamodb_client
from external_providers.domain import Provider, UsageKind, provider_for
from external_providers.provider_config import ProviderConfig
from external_providers.resolution import Resolution
from external_providers.routing import Reason, Route, decide_route
from external_providers.settings import Settings
from external_providers.stores.routing_state import IncompleteRead, RoutingState, RoutingStateStore
from external_providers.stores.secret_store import SecretStore
from external_providers.ttl_cache import TtlCache

logger = Logger(child=True)

# Bounds the memory of a warm container that serves many orgs. Least recently used go first.
MAX_CACHED_ORGS = 10_000

LOOKUP_ERRORS = (ClientError, BotoCoreError, IncompleteRead, ValidationError)
"""Errors in reading or parsing the stored state. Each makes the resolver return lookup_failed."""


class ResolverSettings(Settings):
    resolver_config_ttl_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Seconds a warm resolver reuses an org's provider state and plan",
    )


@lru_cache(maxsize=1)
def get_resolver_settings() -> ResolverSettings:
    """Return the resolver's settings, read from the environment on first use."""
    return ResolverSettings()


class Resolver:
    """Resolves routes from cached routing state and cached secrets.

    Parameters
    ----------
    state_store
        Reads an org's provider state and plan.
    secrets
        Reads a key by its secret version.
    base_urls
        Each provider's API base URL, returned with its key.
    config_ttl_seconds
        Seconds an org's routing state is reused; 0 reads it on every call.
    clock
        Seconds for the TTL, `time.monotonic` by default; tests pass their own.
    """

    def __init__(
        self,
        state_store: RoutingStateStore,
        secrets: SecretStore,
        base_urls: Mapping[Provider, str],
        config_ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state_store = state_store
        self._secrets = secrets
        self._base_urls = base_urls
        self._states: TtlCache[str, RoutingState] = TtlCache(
            config_ttl_seconds, MAX_CACHED_ORGS, clock
        )
        # The key of each org and provider with its secret version. A key replaced through
        # the API is read again as soon as the routing state shows a new version.
        self._keys: TtlCache[tuple[str, Provider], tuple[str, SecretStr]] = TtlCache(
            math.inf, MAX_CACHED_ORGS * len(Provider), clock
        )

    def resolve(self, org_id: str, usage: UsageKind) -> Resolution:
        """Return where usage of this kind goes. A failed AWS read gives lookup_failed."""
        provider = provider_for(usage)
        try:
            state = self._routing_state(org_id)
            config = state.configs[provider]
            decision = decide_route(usage, config, state.plan)
            if decision.route is Route.PLATFORM:
                if not config.configured:
                    self._keys.pop((org_id, provider))  # a deleted key leaves memory too
                return Resolution.platform(decision.reason)
            api_key = self._api_key(config)
        except LOOKUP_ERRORS as error:
            logger.error(
                "lookup failed, routing to the platform",
                org_id=org_id,
                usage=usage,
                provider=provider,
                error_type=type(error).__name__,
                error_code=_error_code(error),
            )
            return Resolution.platform(Reason.LOOKUP_FAILED)

        return Resolution(
            route=Route.PROVIDER,
            provider=provider,
            api_key=api_key,
            base_url=self._base_urls[provider],
            reason=Reason.ACTIVE,
        )

    def clear_caches(self) -> None:
        self._states.clear()
        self._keys.clear()

    def _routing_state(self, org_id: str) -> RoutingState:
        state = self._states.get(org_id)
        if state is None:
            state = self._state_store.read(org_id)
            self._states.put(org_id, state)
        return state

    def _api_key(self, config: ProviderConfig) -> SecretStr:
        version = config.key_version
        assert version is not None  # the routing rule routes only configured providers
        cache_key = (config.org_id, config.provider)

        cached = self._keys.get(cache_key)
        if cached is not None and cached[0] == version:
            return cached[1]

        api_key = SecretStr(self._secrets.get(config.org_id, config.provider, version))
        self._keys.put(cache_key, (version, api_key))
        logger.info(
            "read key version", org_id=config.org_id, provider=config.provider, key_version=version
        )
        return api_key


def _error_code(error: Exception) -> str | None:
    """Return AWS's error code (ThrottlingException, AccessDeniedException, ...), if any."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    return None


def build_resolver(
    settings: ResolverSettings, clock: Callable[[], float] = time.monotonic
) -> Resolver:
    """Build the resolver from the settings, with the shared boto3 clients."""
    return Resolver(
        state_store=RoutingStateStore(dynamodb_client(), settings.table_name),
        secrets=SecretStore.from_settings(settings),
        base_urls={
            Provider.OPENROUTER: settings.openrouter_base_url,
            Provider.OPENAI: settings.openai_base_url,
        },
        config_ttl_seconds=settings.resolver_config_ttl_seconds,
        clock=clock,
    )
