"""Configuration, parsed once from the environment that `template.yaml` sets."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    table_name: str = Field(description="DynamoDB table of provider state, usage and audit")
    secret_name_prefix: str = Field(description="Secrets Manager name prefix of stored keys")
    kms_key_id: str | None = Field(default=None, description="KMS key that encrypts stored keys")
    secret_recovery_window_days: int = Field(default=7, ge=7, le=30)

    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    openai_base_url: str = "https://api.openai.com/v1"
    provider_timeout_seconds: float = Field(default=5.0, gt=0)
    provider_max_retries: int = Field(default=2, ge=0, le=5)
    openrouter_payment_probe: bool = Field(
        default=True,
        description="On Save, spend one output token when the balance cannot be read",
    )
    openrouter_probe_model: str = "openai/gpt-4o-mini"
    openai_probe_model: str = "text-embedding-3-small"
    low_credit_threshold_usd: float = Field(default=5.0, ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings, read from the environment on first use."""
    return Settings()
