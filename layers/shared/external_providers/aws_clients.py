"""boto3 clients, built on first use so that importing a module has no side effects."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

# Short time limits: the API answers within API Gateway's 30 seconds and the resolver is
# on the path of every agent message. `standard` retries back off on throttling.
AWS_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=AWS_CONFIG)


@cache
def secrets_client() -> SecretsManagerClient:
    return boto3.client("secretsmanager", config=AWS_CONFIG)


def clear_clients() -> None:
    """Forget the cached clients, so the next call builds them from the current environment."""
    dynamodb_client.cache_clear()
    secrets_client.cache_clear()
