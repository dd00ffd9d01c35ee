"""The API function against moto's AWS and the provider sandbox: Save, switch, delete."""

from __future__ import annotations

from tests.integration.conftest import Api, AwsStack, Sandbox

FUNDED_OPENROUTER = "sk-or-v1-" + "f0" * 32
NEVER_PURCHASED_OPENROUTER = "sk-or-v1-" + "e1" * 32
OPENAI_PROJECT = "sk-proj-" + "Pq7_x" * 30


def test_fresh_org_lists_both_providers_unconfigured(api: Api) -> None:
    response = api("GET", "/providers")

    assert response.status == 200
    providers = response.json["providers"]
    assert [p["provider"] for p in providers] == ["openrouter", "openai"]
    assert providers[0]["covers"] == ["message_tokens"]
    assert providers[1]["covers"] == ["voice_seconds", "knowledge_tokens"]
    assert all(p["status"] == "not_configured" for p in providers)
    assert all(p["configured"] is False and p["enabled"] is False for p in providers)


def test_save_funded_key_activates_it(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    # Given a funded OpenRouter key, pasted with white space around it
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", credits=25.0)

    # When it is saved and switched on
    response = api(
        "PUT",
        "/providers/openrouter",
        body={"api_key": f"  {FUNDED_OPENROUTER}\n", "enabled": True},
    )

    # Then it is active, shown by its hint only, and stored as a secret under the prefix
    assert response.status == 200
    assert response.json["status"] == "active"
    assert response.json["enabled"] is True
    assert response.json["configured"] is True
    assert response.json["key_hint"] == "sk-or-v1-…f0f0"
    assert response.json["credit"]["remaining"] == 25.0
    assert response.json["credit"]["currency"] == "USD"
    assert response.json["updated_by"] == "user_42"
    assert "api_key" not in response.json
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER
    assert aws.secret_kms_key("org_123", "openrouter") == aws.kms_key_arn


def test_save_writes_audit_entry_without_key(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")

    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True})

    entries = aws.audit_items("org_123")
    assert [entry["action"] for entry in entries] == ["key_saved"]
    assert entries[0]["actor"] == "user_42"
    assert entries[0]["key_hint"] == "sk-or-v1-…f0f0"
    assert FUNDED_OPENROUTER not in repr(entries)


def test_save_invalid_key_is_rejected(api: Api, aws: AwsStack) -> None:
    unknown_key = "sk-or-v1-" + "00" * 32

    response = api("PUT", "/providers/openrouter", body={"api_key": unknown_key, "enabled": True})

    assert response.status == 422
    assert response.json["error"]["code"] == "invalid_key"
    assert aws.secret_names() == []
    assert api("GET", "/providers/openrouter").json["status"] == "not_configured"


def test_never_purchased_key_keeps_earlier_key(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    # Given an active key
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    sandbox.set_key(NEVER_PURCHASED_OPENROUTER, "openrouter", credits=0, free_tier=True)
    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True})
    before = api("GET", "/providers/openrouter").json

    # When a key whose account never bought credits is saved over it
    response = api("PUT", "/providers/openrouter", body={"api_key": NEVER_PURCHASED_OPENROUTER})

    # Then the save fails and the earlier key is still the active one
    assert response.status == 422
    assert response.json["error"]["code"] == "insufficient_credits"
    assert api("GET", "/providers/openrouter").json == before
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER


def test_slow_provider_is_unavailable(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", latency_ms=3000)

    response = api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER})

    assert response.status == 503
    assert response.json["error"]["code"] == "provider_unavailable"
    assert "try again" in response.json["error"]["message"].lower()
    assert aws.secret_names() == []


def test_openai_project_key_saves(api: Api, sandbox: Sandbox) -> None:
    sandbox.set_key(OPENAI_PROJECT, "openai", credits=10.0)

    response = api("PUT", "/providers/openai", body={"api_key": OPENAI_PROJECT, "enabled": True})

    assert response.status == 200
    assert response.json["status"] == "active"
    assert response.json["key_hint"] == "sk-proj-…" + OPENAI_PROJECT[-4:]
    assert response.json["credit"]["remaining"] is None


def test_openai_key_without_embeddings_scope(api: Api, sandbox: Sandbox) -> None:
    sandbox.set_key(OPENAI_PROJECT, "openai", embeddings=False)

    response = api("PUT", "/providers/openai", body={"api_key": OPENAI_PROJECT})

    assert response.status == 422
    assert response.json["error"]["code"] == "insufficient_scope"


def test_unreadable_balance_is_unknown_not_zero(api: Api, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", credits_readable=False)

    response = api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER})

    assert response.status == 200
    assert response.json["credit"]["remaining"] is None
    assert response.json["credit"]["low"] is False


def test_enabling_without_key_needs_a_key(api: Api) -> None:
    response = api("PUT", "/providers/openrouter", body={"enabled": True})

    assert response.status == 409
    assert response.json["error"]["code"] == "key_required"


def test_switch_off_keeps_key(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True})

    response = api("PUT", "/providers/openrouter", body={"enabled": False})

    assert response.status == 200
    assert response.json["enabled"] is False
    assert response.json["configured"] is True
    assert response.json["status"] == "active"
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER


def test_enabling_validates_stored_key(api: Api, sandbox: Sandbox) -> None:
    # Given a stored key, switched off, whose account has since run dry
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": False})
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", credits=0)

    # When it is switched on
    response = api("PUT", "/providers/openrouter", body={"enabled": True})

    # Then the switch is refused and stays off
    assert response.status == 422
    assert response.json["error"]["code"] == "insufficient_credits"
    assert api("GET", "/providers/openrouter").json["enabled"] is False


def test_delete_then_save_again_at_once(api: Api, aws: AwsStack, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True})

    deleted = api("DELETE", "/providers/openrouter")
    after_delete = api("GET", "/providers/openrouter").json
    saved = api(
        "PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True}
    )

    assert deleted.status == 204
    assert deleted.body == ""
    assert after_delete["configured"] is False
    assert after_delete["enabled"] is False
    assert after_delete["status"] == "not_configured"
    assert after_delete["key_hint"] is None
    assert saved.status == 200
    assert saved.json["status"] == "active"
    assert aws.secret_value("org_123", "openrouter") == FUNDED_OPENROUTER


def test_delete_unconfigured_provider_is_harmless(api: Api) -> None:
    response = api("DELETE", "/providers/openai")

    assert response.status == 204
    assert api("GET", "/providers/openai").json["status"] == "not_configured"


def test_validate_records_exhausted_credit(api: Api, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    api("PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True})
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", credits=0)

    response = api("POST", "/providers/openrouter/validate")

    assert response.status == 200
    assert response.json["status"] == "insufficient_credits"
    assert response.json["enabled"] is True
    assert response.json["configured"] is True


def test_validate_unreachable_provider_keeps_status(api: Api, sandbox: Sandbox) -> None:
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter")
    saved = api(
        "PUT", "/providers/openrouter", body={"api_key": FUNDED_OPENROUTER, "enabled": True}
    )
    sandbox.set_key(FUNDED_OPENROUTER, "openrouter", latency_ms=3000)

    response = api("POST", "/providers/openrouter/validate")

    assert response.status == 503
    after = api("GET", "/providers/openrouter").json
    assert after["status"] == "active"
    assert after["validated_at"] == saved.json["validated_at"]


def test_validate_without_key_needs_a_key(api: Api) -> None:
    response = api("POST", "/providers/openai/validate")

    assert response.status == 409
    assert response.json["error"]["code"] == "key_required"
