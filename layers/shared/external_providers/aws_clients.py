"""boto3 clients, built on first use so that importing a module has no side effects."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient


class AwsClientSettings(BaseSettings):
    """Time limits of AWS calls; each function's environment in `template.yaml` may set them.

    The defaults fit the API, which must respond within API Gateway's 30 seconds. The resolver
    sets shorter ones, so that a hanging AWS call ends in `lookup_failed` within its timeout.
    """

    model_config = SettingsConfigDict(env_prefix="AWS_CLIENT_")

    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(
        default=3, ge=1, le=10, description="Attempts per call, first included"
    )

    def botocore_config(self) -> Config:
        # `standard` retries back off on throttling and transient errors.
        return Config(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
        )


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=AwsClientSettings().botocore_config())


@cache
def secrets_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=AwsClientSettings().botocore_config())


def clear_clients() -> None:
    """Forget the cached clients, so the next call builds them from the current environment."""
    dynamodb_client.cache_clear()
    secrets_client.cache_clear()
