"""The local HTTP API over HTTP: JWT authorizer, routing, events, responses and CORS."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest

from local.tokens import make_token
from tests.integration.local.conftest import AUDIENCE, ISSUER, LocalTestStack

ALLOWED_ORIGIN = "http://localhost:5173"


@pytest.fixture
def stack(local_test_stack: LocalTestStack) -> LocalTestStack:
    return local_test_stack


def get(
    stack: LocalTestStack, path: str, token: str | None = None, **options: Any
) -> httpx.Response:
    headers = dict(options.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(
        options.pop("method", "GET"), f"{stack.api_url}{path}", headers=headers, **options
    )


def echoed_event(response: httpx.Response) -> dict[str, Any]:
    event: dict[str, Any] = response.json()["event"]
    return event


def function_invocations(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "local.functions"]


# JWT authorizer


def test_missing_token_is_unauthorized(
    stack: LocalTestStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    response = get(stack, "/items")

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert function_invocations(caplog) == []


@pytest.mark.parametrize(
    ("token_options", "reason"),
    [
        ({"secret": "not-the-local-secret-but-long-enough"}, "signature is invalid"),
        ({"expires_in": -1}, "expired"),
        ({"audience": "someone-else"}, "audience"),
        ({"issuer": "https://auth.example.com/"}, "issuer"),
    ],
)
def test_invalid_token_is_unauthorized(
    stack: LocalTestStack,
    caplog: pytest.LogCaptureFixture,
    token_options: dict[str, Any],
    reason: str,
) -> None:
    caplog.set_level(logging.INFO)
    options = {"issuer": ISSUER, "audience": AUDIENCE, **token_options}
    token = make_token("user_1", "org_1", "enterprise", "owner", **options)

    response = get(stack, "/items", token)

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert reason in response.headers["www-authenticate"]
    assert function_invocations(caplog) == []


def test_garbage_token_is_unauthorized(stack: LocalTestStack) -> None:
    response = get(stack, "/items", "not.a.jwt")

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_token_without_bearer_prefix_is_accepted(stack: LocalTestStack) -> None:
    response = get(stack, "/items", headers={"Authorization": stack.token()})

    assert response.status_code == 201


def test_any_configured_audience_is_accepted(stack: LocalTestStack) -> None:
    token = make_token("user_1", "org_1", "pro", "member", issuer=ISSUER, audience="other-audience")

    response = get(stack, "/items", token)

    assert response.status_code == 201


def test_claims_reach_the_function_as_text(stack: LocalTestStack) -> None:
    token = stack.token(groups=["admins", "billing"], verified=True, scope="items/read profile")

    response = get(stack, "/items", token)

    authorizer = echoed_event(response)["requestContext"]["authorizer"]["jwt"]
    claims = authorizer["claims"]
    assert claims["sub"] == "user_1"
    assert claims["org_id"] == "org_1"
    assert claims["org_plan"] == "enterprise"
    assert claims["org_role"] == "owner"
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == ISSUER
    assert isinstance(claims["exp"], str)
    assert claims["exp"].isdigit()
    assert claims["groups"] == "[admins billing]"
    assert claims["verified"] == "true"
    assert authorizer["scopes"] == ["items/read", "profile"]


def test_token_without_scope_has_null_scopes(stack: LocalTestStack) -> None:
    response = get(stack, "/items", stack.token())

    assert echoed_event(response)["requestContext"]["authorizer"]["jwt"]["scopes"] is None


def test_route_scopes_are_required(stack: LocalTestStack) -> None:
    without_scope = get(stack, "/items/7", stack.token(), method="POST")
    with_scope = get(stack, "/items/7", stack.token(scope="items/write"), method="POST")

    assert without_scope.status_code == 403
    assert without_scope.json() == {"message": "Forbidden"}
    assert with_scope.status_code == 201


def test_route_without_authorizer_needs_no_token(stack: LocalTestStack) -> None:
    response = get(stack, "/public")

    assert response.status_code == 201
    assert "authorizer" not in echoed_event(response)["requestContext"]


# Routing and the event


def test_event_has_payload_format_2(stack: LocalTestStack) -> None:
    response = get(
        stack,
        "/items/42?tag=a&tag=b&empty=",
        stack.token(),
        headers={"X-Custom": "Value", "Cookie": "session=abc; theme=dark"},
    )

    event = echoed_event(response)
    context = event["requestContext"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{item_id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "tag=a&tag=b&empty="
    assert event["queryStringParameters"] == {"tag": "a,b", "empty": ""}
    assert event["pathParameters"] == {"item_id": "42"}
    assert event["headers"]["x-custom"] == "Value"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/items/42"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /items/{item_id}"
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "testapi"
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)
    assert response.json()["function_name"] == "external-providers-EchoFunction"


def test_event_without_query_or_parameters(stack: LocalTestStack) -> None:
    event = echoed_event(get(stack, "/items", stack.token()))

    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event


def test_text_body_reaches_the_function(stack: LocalTestStack) -> None:
    response = get(
        stack,
        "/items/7",
        stack.token(scope="items/write"),
        method="POST",
        json={"name": "seven"},
    )

    event = echoed_event(response)
    assert json.loads(event["body"]) == {"name": "seven"}
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64_encoded(stack: LocalTestStack) -> None:
    response = get(
        stack,
        "/items/7",
        stack.token(scope="items/write"),
        method="POST",
        content=b"\x00\xff",
        headers={"Content-Type": "application/octet-stream"},
    )

    event = echoed_event(response)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x00\xff"


def test_literal_route_wins_over_parameter(stack: LocalTestStack) -> None:
    response = get(stack, "/items/special")

    assert response.status_code == 201
    assert echoed_event(response)["routeKey"] == "GET /items/special"


def test_greedy_path_parameter(stack: LocalTestStack) -> None:
    response = get(stack, "/files/a/b/c.txt", stack.token(), method="DELETE")

    event = echoed_event(response)
    assert event["routeKey"] == "ANY /files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["requestContext"]["http"]["method"] == "DELETE"


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("DELETE", "/items")])
def test_unknown_route_is_not_found(stack: LocalTestStack, method: str, path: str) -> None:
    response = get(stack, path, stack.token(), method=method)

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


# The function's response


def test_function_response_is_returned(stack: LocalTestStack) -> None:
    response = get(stack, "/items", stack.token())

    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-echo"] == "echo"
    assert response.headers.get_list("set-cookie") == ["session=abc; Path=/", "theme=dark"]


def test_function_exception_is_internal_server_error(stack: LocalTestStack) -> None:
    response = get(stack, "/items/fail", stack.token())

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_invalid_function_response_is_internal_server_error(stack: LocalTestStack) -> None:
    response = get(stack, "/items/bad-response", stack.token())

    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_result_without_status_code_is_json(stack: LocalTestStack) -> None:
    response = get(stack, "/items/plain", stack.token())

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"plain": True}


def test_base64_response_body_is_decoded(stack: LocalTestStack) -> None:
    response = get(stack, "/items/binary", stack.token())

    assert response.status_code == 200
    assert response.content == b"\x00\x01\x02"


# CORS


def test_preflight_answered_by_gateway(
    stack: LocalTestStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    response = get(
        stack,
        "/items",
        method="OPTIONS",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-methods"] == "GET,POST"
    assert response.headers["access-control-allow-headers"] == "authorization,content-type"
    assert response.headers["access-control-max-age"] == "300"
    assert function_invocations(caplog) == []


def test_preflight_from_other_origin_gets_no_cors_headers(stack: LocalTestStack) -> None:
    response = get(
        stack,
        "/items",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 204
    assert "access-control-allow-origin" not in response.headers


def test_response_to_allowed_origin_has_cors_headers(stack: LocalTestStack) -> None:
    response = get(stack, "/items", stack.token(), headers={"Origin": ALLOWED_ORIGIN})

    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-expose-headers"] == "x-echo"


def test_response_to_other_origin_has_no_cors_headers(stack: LocalTestStack) -> None:
    response = get(stack, "/items", stack.token(), headers={"Origin": "https://evil.example"})

    assert response.status_code == 201
    assert "access-control-allow-origin" not in response.headers


def test_unauthorized_response_has_cors_headers(stack: LocalTestStack) -> None:
    response = get(stack, "/items", headers={"Origin": ALLOWED_ORIGIN})

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
