"""Handlers against moto's AWS (in process) and the provider sandbox (on a local port)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import httpx
import pytest
from moto import mock_aws

from external_providers.aws_clients import clear_clients
from external_providers.settings import get_settings
from local.functions import LambdaContext
from local.sandbox import serve
from tests.events import http_api_event
from tests.key_guard import assert_no_key
from tests.tables import create_template_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

SECRET_PREFIX = "external-providers/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Sandbox:
    url: str

    def set_key(self, key: str, provider: str, **behaviour: Any) -> None:
        """Set how the sandbox responds to one key: valid and funded unless overridden."""
        response = httpx.post(
            f"{self.url}/_sandbox/keys", json={"key": key, "provider": provider, **behaviour}
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    port = free_port()
    server = serve("127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def sandbox(sandbox_url: str) -> Sandbox:
    httpx.post(f"{sandbox_url}/_sandbox/reset").raise_for_status()
    return Sandbox(sandbox_url)


@dataclass
class AwsStack:
    dynamodb: DynamoDBClient
    secrets: SecretsManagerClient
    table_name: str
    kms_key_arn: str

    def secret_name(self, org_id: str, provider: str) -> str:
        return f"{SECRET_PREFIX}{org_id}/{provider}"

    def secret_value(self, org_id: str, provider: str) -> str:
        # moto's default response ignores moved stage labels, so ask for AWSCURRENT by name.
        response = self.secrets.get_secret_value(
            SecretId=self.secret_name(org_id, provider), VersionStage="AWSCURRENT"
        )
        return response["SecretString"]

    def secret_kms_key(self, org_id: str, provider: str) -> str | None:
        return self.secrets.describe_secret(SecretId=self.secret_name(org_id, provider)).get(
            "KmsKeyId"
        )

    def secret_names(self) -> list[str]:
        return [secret["Name"] for secret in self.secrets.list_secrets()["SecretList"]]

    def audit_items(self, org_id: str) -> list[dict[str, Any]]:
        response = self.dynamodb.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :audit)",
            ExpressionAttributeValues={":pk": {"S": f"ORG#{org_id}"}, ":audit": {"S": "AUDIT#"}},
        )
        return [
            {name: next(iter(value.values())) for name, value in item.items()}
            for item in response["Items"]
        ]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, sandbox_url: str) -> Iterator[AwsStack]:
    """moto's AWS with the template's table and a KMS key, and the API's environment."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        tables = create_template_tables(dynamodb)
        kms_key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
        environment = {
            "TABLE_NAME": tables["ProvidersTable"],
            "SECRET_NAME_PREFIX": SECRET_PREFIX,
            "KMS_KEY_ID": kms_key_arn,
            "OPENROUTER_BASE_URL": f"{sandbox_url}/openrouter/api/v1",
            "OPENAI_BASE_URL": f"{sandbox_url}/openai/v1",
            "PROVIDER_TIMEOUT_SECONDS": "1",
            "PROVIDER_MAX_RETRIES": "1",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        reset_caches()

        yield AwsStack(
            dynamodb=dynamodb,
            secrets=boto3.client("secretsmanager"),
            table_name=tables["ProvidersTable"],
            kms_key_arn=kms_key_arn,
        )

    reset_caches()


def reset_caches() -> None:
    from functions.api import app

    get_settings.cache_clear()
    clear_clients()
    app._service = None


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Api(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        *,
        claims: dict[str, str] | None = None,
        body: Any = None,
        raw_body: str | None = None,
        content_type: str = "application/json",
    ) -> ApiResponse: ...


@pytest.fixture
def api(aws: AwsStack, sandbox: Sandbox) -> Callable[..., ApiResponse]:
    """Call the API function as API Gateway does, after its JWT authorizer."""
    from functions.api import app

    def call(
        method: str,
        path: str,
        *,
        claims: dict[str, str] | None = None,
        body: Any = None,
        raw_body: str | None = None,
        content_type: str = "application/json",
    ) -> ApiResponse:
        event = http_api_event(
            method, path, claims=claims, body=body, raw_body=raw_body, content_type=content_type
        )
        result = app.lambda_handler(event, LambdaContext.for_direct_call("ApiFunction"))
        assert_no_key(json.dumps(result))
        return ApiResponse(
            status=result["statusCode"],
            headers=result.get("headers", {}),
            body=result.get("body") or "",
        )

    return call
