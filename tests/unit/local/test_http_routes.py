"""HTTP API routes, authorizers and CORS read from templates, and the gateway's conversions."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from local.functions import read_functions
from local.http_api import InvalidFunctionResponseError, claim_text, function_response
from local.http_routes import HttpApi, Route, read_http_apis
from local.template import Template, TemplateError, load_template_document
from tests.unit.local.real_template import load_real_template, record_service_ids


def real_apis() -> list[HttpApi]:
    template = record_service_ids(load_real_template())
    return read_http_apis(template, read_functions(template))


def inline_apis(text: str) -> list[HttpApi]:
    template = Template(load_template_document(textwrap.dedent(text)), directory=Path("/p"))
    return read_http_apis(template, read_functions(template))


def test_real_template_routes() -> None:
    apis = real_apis()

    assert [api.logical_id for api in apis] == ["HttpApi"]
    assert [route.route_key for route in apis[0].routes] == [
        "GET /providers",
        "GET /providers/{provider}",
        "PUT /providers/{provider}",
        "POST /providers/{provider}/validate",
        "DELETE /providers/{provider}",
        "GET /openapi.json",
    ]


def test_real_template_authorizer() -> None:
    routes = {route.route_key: route for route in real_apis()[0].routes}

    authorizer = routes["GET /providers"].authorizer
    assert authorizer is not None
    assert authorizer.issuer == "https://auth.example.com/"
    assert authorizer.audiences == ("external-providers",)
    assert authorizer.header == "authorization"
    assert routes["GET /openapi.json"].authorizer is None


def test_real_template_cors() -> None:
    cors = real_apis()[0].cors

    assert cors is not None
    assert cors.allow_origins == ("http://localhost:5173",)
    assert cors.allow_methods == ("GET", "PUT", "POST", "DELETE", "OPTIONS")
    assert cors.allow_headers == ("authorization", "content-type")
    assert cors.max_age == 600
    assert cors.allow_credentials is False


IMPLICIT_API = """
    Globals:
      Function:
        Runtime: python3.13
      HttpApi:
        CorsConfiguration: true
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn
          Handler: app.handler
          Events:
            Catchall:
              Type: HttpApi
            Health:
              Type: HttpApi
              Properties:
                Path: /health
                Method: get
"""


def test_implicit_api_and_default_route() -> None:
    apis = inline_apis(IMPLICIT_API)

    assert [api.logical_id for api in apis] == ["ServerlessHttpApi"]
    assert [route.route_key for route in apis[0].routes] == ["$default", "GET /health"]
    assert apis[0].cors is not None
    assert apis[0].cors.allows_origin("https://any.example")
    assert all(route.authorizer is None for route in apis[0].routes)


def test_payload_format_1_is_rejected() -> None:
    text = IMPLICIT_API.replace(
        "Method: get", "Method: get\n                PayloadFormatVersion: '1.0'"
    )

    with pytest.raises(TemplateError, match=r"payload format 2\.0"):
        inline_apis(text)


def test_lambda_authorizer_is_marked_unsupported() -> None:
    apis = inline_apis(
        """
        Resources:
          Api:
            Type: AWS::Serverless::HttpApi
            Properties:
              Auth:
                DefaultAuthorizer: Custom
                Authorizers:
                  Custom:
                    FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:authorizer
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.13
              CodeUri: fn
              Handler: app.handler
              Events:
                Get:
                  Type: HttpApi
                  Properties:
                    ApiId: !Ref Api
                    Path: /things
                    Method: GET
        """
    )

    route = apis[0].routes[0]
    assert route.authorizer is None
    assert route.unsupported_authorizer == "Custom"


def route(path: str, method: str = "GET") -> Route:
    return Route("Api", "api", "Fn", method, path, None, None, ())


@pytest.mark.parametrize(
    ("path", "request_path", "expected"),
    [
        ("/items", "/items", {}),
        ("/items/{item_id}", "/items/42", {"item_id": "42"}),
        ("/items/{item_id}", "/items/42/more", None),
        ("/items/{item_id}", "/items/", None),
        ("/files/{proxy+}", "/files/a/b", {"proxy": "a/b"}),
        ("/a/{first}/b/{second}", "/a/1/b/2", {"first": "1", "second": "2"}),
        ("/items", "/items/", None),
    ],
)
def test_route_match(path: str, request_path: str, expected: dict[str, str] | None) -> None:
    assert route(path).match("GET", request_path) == expected


def test_route_match_needs_method() -> None:
    assert route("/items").match("POST", "/items") is None
    assert route("/items", "ANY").match("POST", "/items") == {}


def test_route_specificity_order() -> None:
    routes = [
        route("$default", "ANY"),
        route("/items/{proxy+}"),
        route("/items/{item_id}", "ANY"),
        route("/items/{item_id}"),
        route("/items/special"),
    ]

    ordered = sorted(routes, key=lambda candidate: candidate.specificity)

    assert [candidate.route_key for candidate in ordered] == [
        "GET /items/special",
        "GET /items/{item_id}",
        "ANY /items/{item_id}",
        "GET /items/{proxy+}",
        "$default",
    ]


@pytest.mark.parametrize(
    ("claim", "text"),
    [
        ("org_1", "org_1"),
        (1767225600, "1767225600"),
        (True, "true"),
        (["a", "b"], "[a b]"),
        ({"k": "v"}, '{"k":"v"}'),
    ],
)
def test_claim_text(claim: Any, text: str) -> None:
    assert claim_text(claim) == text


def test_function_response_with_status_code() -> None:
    response = function_response(
        {"statusCode": 204, "headers": {"x-count": 3}, "cookies": ["a=1", "b=2"]}
    )

    assert response.status_code == 204
    assert response.headers["x-count"] == "3"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("result", [{"a": 1}, [1, 2], "plain text"])
def test_function_response_without_status_code(result: Any) -> None:
    response = function_response(result)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "text"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_function_response_invalid(result: dict[str, Any]) -> None:
    with pytest.raises(InvalidFunctionResponseError):
        function_response(result)
