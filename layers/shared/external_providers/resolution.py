"""The resolver's request and response, shared by the resolver function and its client."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from external_providers.domain import Provider, UsageKind
from external_providers.routing import Reason, Route

# The org ids that the dashboard's tokens carry.
ORG_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ResolverRequest(BaseModel):
    """An agent service's request: the org about to use a model, and the usage kind."""

    model_config = ConfigDict(frozen=True)

    org_id: str = Field(pattern=ORG_ID_PATTERN)
    usage: UsageKind


class Resolution(BaseModel):
    """Where to send one usage kind of one org, and with which key.

    The provider route carries the provider, its key and its base URL; the platform route
    carries none of them. `api_key` is a `SecretStr`, so printing or logging a resolution
    shows `**********`. Only `to_payload` reveals it, for the resolver's response.
    """

    model_config = ConfigDict(frozen=True)

    route: Route
    provider: Provider | None = None
    api_key: SecretStr | None = None
    base_url: str | None = None
    reason: Reason

    @model_validator(mode="after")
    def _route_fields_match(self) -> Resolution:
        provider_fields = (self.provider, self.api_key, self.base_url)
        if self.route is Route.PROVIDER and None in provider_fields:
            raise ValueError("the provider route needs provider, api_key and base_url")
        if self.route is Route.PLATFORM and provider_fields != (None, None, None):
            raise ValueError("the platform route carries no provider, api_key or base_url")
        if (self.route is Route.PROVIDER) != (self.reason is Reason.ACTIVE):
            raise ValueError("reason active goes with the provider route, and only with it")
        return self

    @classmethod
    def platform(cls, reason: Reason) -> Resolution:
        return cls(route=Route.PLATFORM, reason=reason)

    def to_payload(self) -> dict[str, Any]:
        """Return the resolver's JSON response, with the key in clear for the provider route."""
        if self.route is Route.PLATFORM:
            return {"route": self.route.value, "provider": None, "reason": self.reason.value}
        # The validator makes both present on the provider route.
        assert self.provider is not None
        assert self.api_key is not None
        return {
            "route": self.route.value,
            "provider": self.provider.value,
            "api_key": self.api_key.get_secret_value(),
            "base_url": self.base_url,
            "reason": self.reason.value,
        }
