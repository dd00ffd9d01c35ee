from __future__ import annotations

from typing import Any

import pytest

from external_providers.caller import Role, caller_from_claims
from external_providers.errors import EnterprisePlanRequired, Forbidden, Unauthorized


def claims(**overrides: Any) -> dict[str, Any]:
    return {
        "sub": "user_42",
        "org_id": "org_123",
        "org_plan": "enterprise",
        "org_role": "admin",
    } | overrides


def test_caller_from_claims_reads_the_claims() -> None:
    caller = caller_from_claims(claims())

    assert caller.user_id == "user_42"
    assert caller.org_id == "org_123"
    assert caller.role is Role.ADMIN


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_enterprise_owner_and_admin_may_write(role: str) -> None:
    caller_from_claims(claims(org_role=role)).require_writer()


def test_member_may_not_write() -> None:
    with pytest.raises(Forbidden, match="owner or admin"):
        caller_from_claims(claims(org_role="member")).require_writer()


def test_other_plans_may_not_write() -> None:
    with pytest.raises(EnterprisePlanRequired, match="enterprise plan"):
        caller_from_claims(claims(org_plan="pro", org_role="owner")).require_writer()


@pytest.mark.parametrize(
    ("bad_claims", "field"),
    [
        (None, "org_id"),
        (claims(org_id=None), "org_id"),
        (claims(org_id="org/../other"), "org_id"),
        (claims(org_role="superuser"), "org_role"),
        ({"org_id": "org_123", "org_plan": "enterprise", "org_role": "admin"}, "sub"),
    ],
    ids=["no_claims", "no_org", "path_in_org", "unknown_role", "no_subject"],
)
def test_malformed_claims_are_unauthorized(bad_claims: dict[str, Any] | None, field: str) -> None:
    with pytest.raises(Unauthorized) as raised:
        caller_from_claims(bad_claims)

    assert field in raised.value.message
