"""Request and response bodies of the dashboard API, which its OpenAPI document is built from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from external_providers.domain import COVERAGE, Credit, Provider, Status, UsageKind
from external_providers.provider_config import ProviderConfig


class SaveProviderRequest(BaseModel):
    """Body of Save: a new key, the switch, or both."""

    model_config = ConfigDict(extra="forbid", strict=True)

    api_key: str | None = Field(
        default=None,
        description="The provider's API key, as pasted; surrounding white space is removed.",
    )
    enabled: bool | None = Field(
        default=None,
        description="Switch the provider on or off; omitted keeps the current switch.",
    )


class ProviderSettings(BaseModel):
    """One provider's settings for the caller's org; never the key itself."""

    provider: Provider
    covers: list[UsageKind]
    configured: bool
    enabled: bool
    status: Status
    key_hint: str | None = Field(description="The key's known prefix and last four characters")
    validated_at: datetime | None
    credit: Credit | None
    updated_at: datetime | None
    updated_by: str | None

    @classmethod
    def from_config(cls, config: ProviderConfig) -> ProviderSettings:
        return cls(
            provider=config.provider,
            covers=list(COVERAGE[config.provider]),
            configured=config.configured,
            enabled=config.enabled,
            status=config.status,
            key_hint=config.key_hint,
            validated_at=config.validated_at,
            credit=config.credit,
            updated_at=config.updated_at,
            updated_by=config.updated_by,
        )


class ProviderSettingsList(BaseModel):
    providers: list[ProviderSettings]


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable error code, such as invalid_request or invalid_key")
    message: str = Field(description="What failed and what to do next")


class ErrorBody(BaseModel):
    error: ErrorDetail
