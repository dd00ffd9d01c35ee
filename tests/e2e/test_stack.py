"""Smoke tests of `make dev`'s local stack over HTTP: each of its four servers responds."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import boto3
import httpx
import pytest

from local.aws import FAKE_CREDENTIALS
from tests.e2e.conftest import REPOSITORY, LocalStack

pytestmark = pytest.mark.e2e


def aws_client(service_name: str, endpoint_url: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service_name, endpoint_url=endpoint_url, region_name="us-east-1", **FAKE_CREDENTIALS
    )


def test_openapi_document_needs_no_token(local_stack: LocalStack) -> None:
    response = httpx.get(f"{local_stack.api_url}/openapi.json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_providers_need_a_token(local_stack: LocalStack) -> None:
    response = httpx.get(f"{local_stack.api_url}/providers")

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_providers_with_a_token(local_stack: LocalStack) -> None:
    token = local_stack.token(org_id=f"org_{uuid.uuid4().hex[:12]}")

    response = httpx.get(
        f"{local_stack.api_url}/providers", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    assert [item["provider"] for item in response.json()["providers"]] == ["openrouter", "openai"]


def test_cors_preflight_for_the_dashboard(local_stack: LocalStack) -> None:
    response = httpx.options(
        f"{local_stack.api_url}/providers",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PUT"},
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_sandbox_is_reachable(local_stack: LocalStack) -> None:
    health = httpx.get(f"{local_stack.sandbox_url}/_sandbox/health")
    models = httpx.get(f"{local_stack.sandbox_url}/openrouter/api/v1/models")

    assert health.status_code == 200
    assert models.status_code == 200


def test_aws_has_the_template_table(local_stack: LocalStack) -> None:
    dynamodb = aws_client("dynamodb", local_stack.aws_url)

    table = dynamodb.describe_table(TableName="external-providers-ProvidersTable")["Table"]

    assert table["TableStatus"] == "ACTIVE"


def test_invoke_api_runs_the_api_function(local_stack: LocalStack) -> None:
    lambda_client = aws_client("lambda", local_stack.lambda_url)
    event = {
        "version": "2.0",
        "routeKey": "GET /openapi.json",
        "rawPath": "/openapi.json",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {
            "http": {"method": "GET", "path": "/openapi.json", "sourceIp": "127.0.0.1"},
            "requestId": "e2e-request",
            "routeKey": "GET /openapi.json",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }

    response = lambda_client.invoke(FunctionName="ApiFunction", Payload=json.dumps(event))

    result = json.loads(response["Payload"].read())
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert result["statusCode"] == 200


def test_invoke_api_unknown_function(local_stack: LocalStack) -> None:
    lambda_client = aws_client("lambda", local_stack.lambda_url)

    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_saved_key_never_reaches_the_log(local_stack: LocalStack) -> None:
    key = "sk-or-v1-" + uuid.uuid4().hex * 2
    httpx.post(
        f"{local_stack.sandbox_url}/_sandbox/keys",
        json={"key": key, "provider": "openrouter", "credits": 10.0},
    ).raise_for_status()
    token = local_stack.token(org_id=f"org_{uuid.uuid4().hex[:12]}")

    response = httpx.put(
        f"{local_stack.api_url}/providers/openrouter",
        headers={"Authorization": f"Bearer {token}"},
        json={"api_key": key, "enabled": True},
        timeout=30,
    )

    assert response.status_code == 200
    assert key not in local_stack.log_path.read_text(encoding="utf-8", errors="replace")


def test_port_in_use_fails_clearly(local_stack: LocalStack) -> None:
    api_port = local_stack.api_url.rsplit(":", 1)[1]

    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "local.dev", "--api-port", api_port],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 1
    assert f"127.0.0.1:{api_port}" in result.stderr
    assert "--api-port" in result.stderr
    assert "local stack ready" not in result.stdout
