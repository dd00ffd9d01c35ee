"""Who may read and change an org's providers, and what bad input gets back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.conftest import Api, AwsStack, Sandbox

FUNDED_OPENROUTER = "sk-or-v1-" + "c3" * 32


@pytest.fixture
def saved_key(api: Api, sandbox: Sandbox) -> dict[str, Any]:
    """An active OpenRouter key of org_123, and its settings as the API returns them."""
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    response = api(
        "PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True}
    )
    assert response.status == 200
    settings: dict[str, Any] = response.json
    return settings


def claims(**overrides: str) -> dict[str, str]:
    base = {"sub": "user_7", "org_id": "org_123", "org_plan": "enterprise", "org_role": "admin"}
    return base | overrides


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/providers/openrouter", {"enabled": False}),
        ("POST", "/providers/openrouter/validate", None),
        ("DELETE", "/providers/openrouter", None),
    ],
    ids=["save", "validate", "delete"],
)
def test_member_may_not_write(
    api: Api, saved_key: dict[str, Any], method: str, path: str, body: Any
) -> None:
    response = api(method, path, body=body, claims=claims(org_role="member"))

    assert response.status == 403
    assert response.json["error"]["code"] == "forbidden"
    assert api("GET", "/providers/openrouter").json == saved_key


def test_member_may_read(api: Api, saved_key: dict[str, Any]) -> None:
    response = api("GET", "/providers/openrouter", claims=claims(org_role="member"))

    assert response.status == 200
    assert response.json == saved_key


def test_non_enterprise_org_may_not_write(api: Api, saved_key: dict[str, Any]) -> None:
    response = api(
        "PUT",
        "/providers/openrouter",
        body={"enabled": False},
        claims=claims(org_plan="pro", org_role="owner"),
    )

    assert response.status == 403
    assert response.json["error"]["code"] == "enterprise_plan_required"
    assert api("GET", "/providers/openrouter").json == saved_key


def test_missing_claims_are_unauthorized(api: Api) -> None:
    response = api("GET", "/providers", claims={})

    assert response.status == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_other_org_sees_nothing(api: Api, saved_key: dict[str, Any]) -> None:
    response = api("GET", "/providers", claims=claims(org_id="org_999"))

    assert response.status == 200
    assert all(p["configured"] is False for p in response.json["providers"])


def test_other_org_cannot_delete(api: Api, aws: AwsStack, saved_key: dict[str, Any]) -> None:
    api("DELETE", "/providers/openrouter", claims=claims(org_id="org_999"))

    assert api("GET", "/providers/openrouter").json == saved_key
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER


BAD_BODIES = [
    (None, None, "body"),
    (None, "{not json", "body"),
    (None, "[]", "body"),
    ({"api_key": 12345}, None, "api_key"),
    ({"enabled": "yes"}, None, "enabled"),
    ({"api_key": FUNDED_OPENROUTER, "apikey": "x"}, None, "apikey"),
    ({}, None, "api_key"),
    ({"api_key": "sk-or-v1-abc def"}, None, "api_key"),
    ({"api_key": "sk-or-v1-abc\u0007def"}, None, "api_key"),
    ({"api_key": "sk-or-v1-clé"}, None, "api_key"),
    ({"api_key": "sk-or-v1-" + "a" * 10_240}, None, "api_key"),
    ({"api_key": "sk-proj-abcdef"}, None, "api_key"),
]


@pytest.mark.parametrize(
    ("body", "raw_body", "field"),
    BAD_BODIES,
    ids=[
        "missing",
        "not_json",
        "array",
        "key_not_string",
        "enabled_not_bool",
        "unknown_field",
        "empty_object",
        "space_inside",
        "control_character",
        "non_ascii",
        "ten_kilobytes",
        "wrong_provider_prefix",
    ],
)
def test_bad_save_body_changes_nothing(
    api: Api, aws: AwsStack, saved_key: dict[str, Any], body: Any, raw_body: str | None, field: str
) -> None:
    response = api("PUT", "/providers/openrouter", body=body, raw_body=raw_body)

    assert response.status == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert field in response.json["error"]["message"]
    assert api("GET", "/providers/openrouter").json == saved_key
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/providers/anthropic"),
        ("PUT", "/providers/anthropic"),
        ("POST", "/providers/anthropic/validate"),
        ("DELETE", "/providers/anthropic"),
    ],
)
def test_unknown_provider_is_invalid_request(api: Api, method: str, path: str) -> None:
    response = api(method, path, body={"enabled": False} if method == "PUT" else None)

    assert response.status == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert "provider" in response.json["error"]["message"]


def test_openapi_document_lists_routes(api: Api) -> None:
    response = api("GET", "/openapi.json", claims={})

    assert response.status == 200
    paths = response.json["paths"]
    assert set(paths["/providers/{provider}"]) == {"get", "put", "delete"}
    assert "post" in paths["/providers/{provider}/validate"]
    assert "422" in paths["/providers/{provider}"]["put"]["responses"]
    assert "SaveProviderRequest" in response.json["components"]["schemas"]


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain;charset=UTF-8",
        "sk-or-v1-" + "9" * 64,
    ],
    ids=["form", "multipart", "text", "key_as_type"],
)
def test_body_not_sent_as_json_is_rejected(
    api: Api, saved_key: dict[str, Any], content_type: str
) -> None:
    # Given a JSON body sent with another content type, as curl -d does by default
    body = json.dumps({"api_key": FUNDED_OPENROUTER, "enabled": False})

    # When it is saved (the api fixture checks that the response shows no key)
    response = api("PUT", "/providers/openrouter", raw_body=body, content_type=content_type)

    # Then it is rejected, naming the header to send, and nothing changed
    assert response.status == 400
    assert response.json["error"]["code"] == "invalid_request"
    assert "Content-Type: application/json" in response.json["error"]["message"]
    assert api("GET", "/providers/openrouter").json == saved_key


def test_json_with_charset_is_accepted(api: Api, saved_key: dict[str, Any]) -> None:
    response = api(
        "PUT",
        "/providers/openrouter",
        raw_body='{"enabled": false}',
        content_type="application/json; charset=utf-8",
    )

    assert response.status == 200
    assert response.json["enabled"] is False
