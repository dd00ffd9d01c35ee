"""The keys API over HTTP against the local stack, as the dashboard uses it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from local.sandbox import DEMO_KEYS
from tests.key_guard import assert_no_key

pytestmark = pytest.mark.e2e

KEYS = {demo.name: demo.key for demo in DEMO_KEYS}

Client = Callable[..., httpx.Response]


@pytest.fixture
def org_id() -> str:
    """A new org for each test, so tests share the stack but not its state."""
    return f"org_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def as_user(local_stack: Any, org_id: str) -> Callable[..., Client]:
    """Build an HTTP client that sends a token with the given role and plan."""

    def for_user(role: str = "owner", plan: str = "enterprise", org: str | None = None) -> Client:
        token = local_stack.token(
            sub=f"user_{role}", org_id=org or org_id, org_plan=plan, org_role=role
        )

        def send(
            method: str, path: str, headers: dict[str, str] | None = None, **options: Any
        ) -> httpx.Response:
            response = httpx.request(
                method,
                local_stack.api_url + path,
                headers={"authorization": f"Bearer {token}", **(headers or {})},
                timeout=30,
                **options,
            )
            assert_no_key(response.text)
            return response

        return send

    return for_user


@pytest.fixture
def owner(as_user: Callable[..., Client]) -> Client:
    return as_user()


def test_funded_key_saves_active(owner: Client) -> None:
    key = KEYS["openrouter-funded"]

    response = owner(
        "PUT", "/providers/openrouter", json={"api_key": f"  {key}\n", "enabled": True}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["enabled"] is True
    assert body["key_hint"] == "sk-or-v1-…" + key[-4:]
    assert "api_key" not in body


def test_invalid_key_is_rejected(owner: Client) -> None:
    unknown = "sk-or-v1-" + uuid.uuid4().hex * 2

    response = owner("PUT", "/providers/openrouter", json={"api_key": unknown, "enabled": True})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_key"


def test_never_purchased_keeps_earlier_key(owner: Client) -> None:
    saved = owner(
        "PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-funded"], "enabled": True}
    ).json()

    response = owner(
        "PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-never-purchased"]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert owner("GET", "/providers/openrouter").json() == saved


def test_slow_provider_is_unavailable(owner: Client) -> None:
    response = owner("PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-slow"]})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "provider_unavailable"
    assert owner("GET", "/providers/openrouter").json()["configured"] is False


@pytest.mark.parametrize(
    ("role", "plan", "code"),
    [("member", "enterprise", "forbidden"), ("owner", "pro", "enterprise_plan_required")],
)
def test_writes_need_enterprise_writer(
    as_user: Callable[..., Client], role: str, plan: str, code: str
) -> None:
    response = as_user(role=role, plan=plan)(
        "PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-funded"]}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == code


def test_no_token_is_unauthorized(local_stack: Any) -> None:
    response = httpx.get(local_stack.api_url + "/providers")

    assert response.status_code == 401


def test_other_org_sees_nothing(owner: Client, as_user: Callable[..., Client]) -> None:
    owner("PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-funded"]})

    response = as_user(org=f"org_{uuid.uuid4().hex[:12]}")("GET", "/providers")

    assert response.status_code == 200
    assert all(p["configured"] is False for p in response.json()["providers"])


def test_enabling_without_key_needs_key(owner: Client) -> None:
    response = owner("PUT", "/providers/openai", json={"enabled": True})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "key_required"


def test_openai_project_key_saves(owner: Client) -> None:
    response = owner(
        "PUT", "/providers/openai", json={"api_key": KEYS["openai-project"], "enabled": True}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["key_hint"].startswith("sk-proj-…")


def test_delete_then_save_again(owner: Client) -> None:
    body = {"api_key": KEYS["openrouter-funded"], "enabled": True}
    owner("PUT", "/providers/openrouter", json=body)

    deleted = owner("DELETE", "/providers/openrouter")
    saved = owner("PUT", "/providers/openrouter", json=body)

    assert deleted.status_code == 204
    assert saved.status_code == 200
    assert saved.json()["status"] == "active"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b'{"api_key": 42}', "api_key"),
        (b'{"enabled": "on"}', "enabled"),
        (b'{"api_key": "sk-or-v1-abc def"}', "api_key"),
        (b'{"api_key": "sk-or-v1-abc\\u0001def"}', "api_key"),
        ('{"api_key": "sk-or-v1-clé"}'.encode(), "api_key"),
        (b'{"api_key": "sk-or-v1-' + b"a" * 10_240 + b'"}', "api_key"),
    ],
    ids=[
        "empty",
        "not_json",
        "wrong_type",
        "bool_as_text",
        "space",
        "control",
        "non_ascii",
        "10kb",
    ],
)
def test_bad_input_changes_nothing(owner: Client, content: bytes, field: str) -> None:
    saved = owner(
        "PUT", "/providers/openrouter", json={"api_key": KEYS["openrouter-funded"], "enabled": True}
    ).json()

    response = owner(
        "PUT",
        "/providers/openrouter",
        content=content,
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["message"]
    assert owner("GET", "/providers/openrouter").json() == saved


def test_unknown_provider_is_invalid(owner: Client) -> None:
    response = owner("GET", "/providers/anthropic")

    assert response.status_code == 400
    assert "provider" in response.json()["error"]["message"]


def test_openapi_document_is_served(local_stack: Any) -> None:
    response = httpx.get(local_stack.api_url + "/openapi.json")

    assert response.status_code == 200
    assert "/providers/{provider}" in response.json()["paths"]


def test_form_encoded_body_is_rejected(owner: Client) -> None:
    # Given a JSON body sent as curl -d sends it without a content-type header
    body = json.dumps({"api_key": KEYS["openrouter-funded"], "enabled": True})

    # When it is saved (the client checks that the response shows no key)
    response = owner(
        "PUT",
        "/providers/openrouter",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    # Then it is rejected, naming the header to send, and nothing is stored
    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["error"]["message"]
    assert owner("GET", "/providers/openrouter").json()["configured"] is False
