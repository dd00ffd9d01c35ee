"""A local stack of the small template in `stack/`: moto, the functions, the HTTP and Invoke APIs.

The servers listen on free ports of 127.0.0.1 and run in this process, so a test observes the
gateway's and the runtime's behaviour without starting `python -m local.dev`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from local.aws import FAKE_CREDENTIALS, create_resources, start_moto
from local.event_sources import EventSources, read_event_sources
from local.functions import FunctionRuntime, read_functions
from local.http_api import HttpApiGateway
from local.http_routes import read_http_apis
from local.lambda_api import LambdaInvokeApi
from local.servers import bind_socket, start_server
from local.template import Template
from local.tokens import make_token

TEMPLATE = Path(__file__).parent / "stack" / "template.yaml"
ISSUER = "https://issuer.test/"
AUDIENCE = "test-audience"
FUNCTION_ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"


@dataclass
class LocalTestStack:
    api_url: str
    lambda_url: str
    aws_url: str
    template: Template
    runtime: FunctionRuntime

    def token(self, **claims: Any) -> str:
        """Sign a valid token for the test API; `claims` replace the standard ones."""
        return make_token(
            "user_1",
            "org_1",
            "enterprise",
            "owner",
            issuer=ISSUER,
            audience=AUDIENCE,
            extra_claims=claims,
        )

    def client(self, service_name: str, endpoint_url: str | None = None) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service_name,
            endpoint_url=endpoint_url or self.aws_url,
            region_name="us-east-1",
            **FAKE_CREDENTIALS,
        )


@pytest.fixture(scope="module")
def local_test_stack() -> Iterator[LocalTestStack]:
    template = Template.from_file(TEMPLATE)
    moto = start_moto(bind_socket("127.0.0.1", 0, "moto"))
    # moto keeps its state per process, shared by every moto server and `mock_aws` in it.
    reset_moto(moto.url)
    create_resources(template, moto.url)

    functions = read_functions(template)
    runtime = FunctionRuntime(functions, aws_endpoint_url=moto.url, region="us-east-1")
    runtime.load_all()
    gateway = HttpApiGateway(
        read_http_apis(template, functions), runtime, account_id="123456789012"
    )
    api = start_server("HTTP API", bind_socket("127.0.0.1", 0, "HTTP API"), gateway)
    invoke_api = LambdaInvokeApi(runtime, function_arn_prefix=FUNCTION_ARN_PREFIX)
    lambda_api = start_server("Invoke API", bind_socket("127.0.0.1", 0, "Invoke API"), invoke_api)
    event_sources = EventSources(
        read_event_sources(template, functions),
        runtime=runtime,
        template=template,
        aws_endpoint_url=moto.url,
    )
    event_sources.start()

    yield LocalTestStack(api.url, lambda_api.url, moto.url, template, runtime)

    event_sources.stop()
    reset_moto(moto.url)
    for server in (lambda_api, api, moto):
        server.stop()


def reset_moto(url: str) -> None:
    httpx.post(f"{url}/moto-api/reset").raise_for_status()
