"""One org's stored state of one provider, and the audit entry each change writes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from external_providers.domain import Credit, Provider, Status


class ProviderConfig(BaseModel):
    """Switch, health and credit of one provider for one org; the key itself is a secret.

    `key_version` pins the secret version in use, so a key replaced in Secrets Manager by a
    save that then failed is never used. `revision` grows by one on each write and guards
    against two concurrent writes overwriting each other.
    """

    model_config = ConfigDict(frozen=True)

    org_id: str
    provider: Provider
    enabled: bool = False
    status: Status = Status.NOT_CONFIGURED
    key_hint: str | None = None
    key_version: str | None = None
    validated_at: datetime | None = None
    credit: Credit | None = None
    last_check_at: datetime | None = None
    last_check_error: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    revision: int = 0

    @property
    def configured(self) -> bool:
        return self.key_version is not None


class AuditAction(StrEnum):
    KEY_SAVED = "key_saved"
    PROVIDER_ENABLED = "provider_enabled"
    PROVIDER_DISABLED = "provider_disabled"
    KEY_VALIDATED = "key_validated"
    KEY_DELETED = "key_deleted"


class AuditEntry(BaseModel):
    """A record of who changed what and when, with the key hint and never the key."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    provider: Provider
    action: AuditAction
    actor: str
    at: datetime
    enabled: bool
    status: Status
    key_hint: str | None
