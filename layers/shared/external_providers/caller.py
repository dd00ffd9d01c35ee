"""The person behind a dashboard request, from the JWT claims API Gateway has verified."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from external_providers.errors import EnterprisePlanRequired, Forbidden, Unauthorized


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


ENTERPRISE_PLAN = "enterprise"
WRITER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str = Field(alias="sub", min_length=1, max_length=128)
    org_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    plan: str = Field(alias="org_plan", min_length=1, max_length=64)
    role: Role = Field(alias="org_role")

    def require_writer(self) -> None:
        """Raise unless the caller may change the org's providers."""
        if self.plan != ENTERPRISE_PLAN:
            raise EnterprisePlanRequired(
                "Bringing your own provider keys needs the enterprise plan. "
                "Upgrade the organization's plan first."
            )
        if self.role not in WRITER_ROLES:
            raise Forbidden(
                "Only an owner or admin of the organization can change provider settings."
            )


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    """Build the caller from JWT claims; missing or malformed claims are `Unauthorized`."""
    try:
        return Caller.model_validate(claims or {})
    except ValidationError as error:
        fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail["loc"]})
        raise Unauthorized(
            f"The token lacks valid claims: {', '.join(fields)}. Sign in again."
        ) from None
