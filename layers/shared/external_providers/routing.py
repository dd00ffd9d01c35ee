"""The routing rule: whether an org's usage goes to its own provider or to the platform."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from external_providers.caller import ENTERPRISE_PLAN
from external_providers.domain import Provider, Status, UsageKind, provider_for
from external_providers.provider_config import ProviderConfig


class Route(StrEnum):
    PROVIDER = "provider"
    PLATFORM = "platform"


class Reason(StrEnum):
    """The cause of a route: `active` for the provider route, any other for the platform."""

    ACTIVE = "active"
    NOT_CONFIGURED = "not_configured"
    DISABLED = "disabled"
    INVALID_KEY = "invalid_key"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    NOT_ENTERPRISE = "not_enterprise"
    LOOKUP_FAILED = "lookup_failed"


# A provider's unhealthy status is also the reason its usage goes to the platform.
STATUS_REASONS: dict[Status, Reason] = {
    Status.NOT_CONFIGURED: Reason.NOT_CONFIGURED,
    Status.INVALID_KEY: Reason.INVALID_KEY,
    Status.INSUFFICIENT_CREDITS: Reason.INSUFFICIENT_CREDITS,
    Status.INSUFFICIENT_SCOPE: Reason.INSUFFICIENT_SCOPE,
}


class RouteDecision(BaseModel):
    """The route of one usage kind of one org. `provider` is set for the provider route only."""

    model_config = ConfigDict(frozen=True)

    route: Route
    provider: Provider | None
    reason: Reason

    @classmethod
    def platform(cls, reason: Reason) -> RouteDecision:
        return cls(route=Route.PLATFORM, provider=None, reason=reason)


def is_enterprise(plan: str | None) -> bool:
    """Tell whether a plan allows the org's own providers.

    An org with no recorded plan (None) counts as enterprise, because only enterprise orgs
    can save keys and plan changes are recorded only when the plan changes.
    """
    return plan is None or plan == ENTERPRISE_PLAN


def decide_route(usage: UsageKind, config: ProviderConfig, plan: str | None) -> RouteDecision:
    """Decide the route of one usage kind from the covering provider's state and the plan.

    `config` must be the state of the provider that covers `usage`. When several reasons
    apply, the first of this order wins: not_enterprise, not_configured, disabled, then the
    provider's status. So the reason names the first thing an administrator has to fix.
    """
    provider = provider_for(usage)
    if config.provider is not provider:
        raise ValueError(
            f"{usage.value} is covered by {provider.value}, but config is the state of "
            f"{config.provider.value}: pass the {provider.value} state"
        )

    if not is_enterprise(plan):
        return RouteDecision.platform(Reason.NOT_ENTERPRISE)
    if not config.configured:
        return RouteDecision.platform(Reason.NOT_CONFIGURED)
    if not config.enabled:
        return RouteDecision.platform(Reason.DISABLED)
    if config.status is not Status.ACTIVE:
        return RouteDecision.platform(STATUS_REASONS[config.status])
    return RouteDecision(route=Route.PROVIDER, provider=provider, reason=Reason.ACTIVE)
