"""The routing rule: every combination of plan, key, switch and status, for each usage kind."""

from __future__ import annotations

import pytest

from external_providers.domain import Provider, Status, UsageKind
from external_providers.provider_config import ProviderConfig
from external_providers.routing import Reason, Route, RouteDecision, decide_route, is_enterprise

COVERING_PROVIDER = {
    UsageKind.MESSAGE_TOKENS: Provider.OPENROUTER,
    UsageKind.VOICE_SECONDS: Provider.OPENAI,
    UsageKind.KNOWLEDGE_TOKENS: Provider.OPENAI,
}


def config(
    provider: Provider,
    *,
    configured: bool = True,
    enabled: bool = True,
    status: Status = Status.ACTIVE,
) -> ProviderConfig:
    return ProviderConfig(
        org_id="org_123",
        provider=provider,
        enabled=enabled,
        status=status,
        key_version="version-1" if configured else None,
    )


@pytest.mark.parametrize("usage", list(UsageKind))
def test_active_provider_gets_usage(usage: UsageKind) -> None:
    provider = COVERING_PROVIDER[usage]

    decision = decide_route(usage, config(provider), "enterprise")

    assert decision.route is Route.PROVIDER
    assert decision.provider is provider
    assert decision.reason is Reason.ACTIVE


@pytest.mark.parametrize("usage", list(UsageKind))
def test_no_plan_record_counts_as_enterprise(usage: UsageKind) -> None:
    decision = decide_route(usage, config(COVERING_PROVIDER[usage]), None)

    assert decision.route is Route.PROVIDER


# (plan, configured, enabled, status) -> reason; the first reason in the rule's order wins.
PLATFORM_CASES = [
    ("pro", True, True, Status.ACTIVE, Reason.NOT_ENTERPRISE),
    ("pro", False, False, Status.NOT_CONFIGURED, Reason.NOT_ENTERPRISE),
    ("pro", True, False, Status.INVALID_KEY, Reason.NOT_ENTERPRISE),
    ("free", True, True, Status.ACTIVE, Reason.NOT_ENTERPRISE),
    ("Enterprise", True, True, Status.ACTIVE, Reason.NOT_ENTERPRISE),
    ("enterprise", False, False, Status.NOT_CONFIGURED, Reason.NOT_CONFIGURED),
    ("enterprise", False, True, Status.NOT_CONFIGURED, Reason.NOT_CONFIGURED),
    ("enterprise", False, True, Status.ACTIVE, Reason.NOT_CONFIGURED),
    (None, False, False, Status.NOT_CONFIGURED, Reason.NOT_CONFIGURED),
    ("enterprise", True, False, Status.ACTIVE, Reason.DISABLED),
    ("enterprise", True, False, Status.INSUFFICIENT_CREDITS, Reason.DISABLED),
    (None, True, False, Status.ACTIVE, Reason.DISABLED),
    ("enterprise", True, True, Status.INVALID_KEY, Reason.INVALID_KEY),
    ("enterprise", True, True, Status.INSUFFICIENT_CREDITS, Reason.INSUFFICIENT_CREDITS),
    ("enterprise", True, True, Status.INSUFFICIENT_SCOPE, Reason.INSUFFICIENT_SCOPE),
    ("enterprise", True, True, Status.NOT_CONFIGURED, Reason.NOT_CONFIGURED),
    (None, True, True, Status.INSUFFICIENT_CREDITS, Reason.INSUFFICIENT_CREDITS),
]


@pytest.mark.parametrize("usage", list(UsageKind))
@pytest.mark.parametrize(("plan", "configured", "enabled", "status", "reason"), PLATFORM_CASES)
def test_platform_reason(
    usage: UsageKind,
    plan: str | None,
    configured: bool,
    enabled: bool,
    status: Status,
    reason: Reason,
) -> None:
    provider_config = config(
        COVERING_PROVIDER[usage], configured=configured, enabled=enabled, status=status
    )

    decision = decide_route(usage, provider_config, plan)

    assert decision == RouteDecision(route=Route.PLATFORM, provider=None, reason=reason)


def test_every_platform_reason_but_lookup_failed_is_reachable() -> None:
    reached = {case[-1] for case in PLATFORM_CASES}

    assert reached == set(Reason) - {Reason.ACTIVE, Reason.LOOKUP_FAILED}


def test_text_never_uses_openai_key() -> None:
    with pytest.raises(ValueError, match="message_tokens is covered by openrouter, but config"):
        decide_route(UsageKind.MESSAGE_TOKENS, config(Provider.OPENAI), "enterprise")


@pytest.mark.parametrize(
    ("plan", "expected"),
    [(None, True), ("enterprise", True), ("pro", False), ("", False), ("ENTERPRISE", False)],
)
def test_is_enterprise(plan: str | None, expected: bool) -> None:
    assert is_enterprise(plan) is expected
