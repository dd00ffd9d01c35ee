"""The secret store against moto, and with botocore's Stubber where moto differs from AWS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from external_providers.domain import Provider
from external_providers.stores.secret_store import SecretStore
from tests.integration.conftest import Api, AwsStack, Sandbox

FIRST_KEY = "sk-or-v1-" + "1a" * 32
SECOND_KEY = "sk-or-v1-" + "2b" * 32
SECRET_NAME = "external-providers/org_123/openrouter"
VERSION_1 = "a0f5c3c2-0000-4000-8000-000000000001"
VERSION_2 = "a0f5c3c2-0000-4000-8000-000000000002"


@pytest.fixture
def store() -> Iterator[SecretStore]:
    with mock_aws():
        yield SecretStore(
            boto3.client("secretsmanager"),
            name_prefix="external-providers/",
            kms_key_id=None,
            recovery_window_days=7,
        )


def test_put_pins_each_key_by_version(store: SecretStore) -> None:
    first = store.put("org_123", Provider.OPENROUTER, FIRST_KEY)
    second = store.put("org_123", Provider.OPENROUTER, SECOND_KEY)

    assert first != second
    assert store.get("org_123", Provider.OPENROUTER, first) == FIRST_KEY
    assert store.get("org_123", Provider.OPENROUTER, second) == SECOND_KEY


def test_make_current_restores_earlier_version(store: SecretStore) -> None:
    first = store.put("org_123", Provider.OPENROUTER, FIRST_KEY)
    second = store.put("org_123", Provider.OPENROUTER, SECOND_KEY)

    store.make_current("org_123", Provider.OPENROUTER, first, second)

    # moto's default response ignores moved stage labels, so ask for AWSCURRENT by name.
    current = store._client.get_secret_value(SecretId=SECRET_NAME, VersionStage="AWSCURRENT")
    assert current["VersionId"] == first


def test_put_after_delete_restores_secret(store: SecretStore) -> None:
    store.put("org_123", Provider.OPENROUTER, FIRST_KEY)
    store.delete("org_123", Provider.OPENROUTER)

    version = store.put("org_123", Provider.OPENROUTER, SECOND_KEY)

    assert "DeletedDate" not in store._client.describe_secret(SecretId=SECRET_NAME)
    assert store.get("org_123", Provider.OPENROUTER, version) == SECOND_KEY


def test_delete_twice_is_harmless(store: SecretStore) -> None:
    store.put("org_123", Provider.OPENROUTER, FIRST_KEY)

    store.delete("org_123", Provider.OPENROUTER)
    store.delete("org_123", Provider.OPENROUTER)
    store.delete("org_999", Provider.OPENROUTER)


def stubbed_store() -> tuple[SecretStore, Stubber]:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    store = SecretStore(client, "external-providers/", "alias/keys", recovery_window_days=7)
    return store, Stubber(client)


def test_put_restores_secret_pending_deletion() -> None:
    # Given a secret pending deletion, whose new values AWS rejects until it is restored
    store, stubber = stubbed_store()
    stubber.add_response(
        "describe_secret",
        {"Name": SECRET_NAME, "DeletedDate": datetime(2026, 12, 4, tzinfo=UTC)},
        {"SecretId": SECRET_NAME},
    )
    stubber.add_response("restore_secret", {"Name": SECRET_NAME}, {"SecretId": SECRET_NAME})
    stubber.add_response(
        "put_secret_value",
        {"Name": SECRET_NAME, "VersionId": VERSION_2},
        {"SecretId": SECRET_NAME, "SecretString": SECOND_KEY},
    )

    # When a key is put, then the secret is restored before the new value is written
    with stubber:
        version = store.put("org_123", Provider.OPENROUTER, SECOND_KEY)

    assert version == VERSION_2
    stubber.assert_no_pending_responses()


def test_put_handles_concurrent_create() -> None:
    store, stubber = stubbed_store()
    stubber.add_client_error("describe_secret", "ResourceNotFoundException")
    stubber.add_client_error("create_secret", "ResourceExistsException")
    stubber.add_response(
        "put_secret_value",
        {"Name": SECRET_NAME, "VersionId": VERSION_1},
        {"SecretId": SECRET_NAME, "SecretString": FIRST_KEY},
    )

    with stubber:
        version = store.put("org_123", Provider.OPENROUTER, FIRST_KEY)

    assert version == VERSION_1
    stubber.assert_no_pending_responses()


def test_delete_of_secret_pending_deletion() -> None:
    store, stubber = stubbed_store()
    stubber.add_client_error(
        "delete_secret",
        "InvalidRequestException",
        "You tried to perform the operation on a secret that's currently marked deleted.",
    )

    with stubber:
        store.delete("org_123", Provider.OPENROUTER)

    stubber.assert_no_pending_responses()


def test_failed_state_write_undoes_new_key(
    api: Api, aws: AwsStack, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an active key
    sandbox.set_key(FIRST_KEY, "openrouter")
    sandbox.set_key(SECOND_KEY, "openrouter")
    api("PUT", "/providers/openrouter", body={"api_key": FIRST_KEY, "enabled": True})
    before = api("GET", "/providers/openrouter").json

    # When DynamoDB fails while a new key is saved
    def failing_transaction(**_: object) -> None:
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "injected"}},
            "TransactWriteItems",
        )

    from functions.api import app

    service = app.provider_service()
    monkeypatch.setattr(service._store._client, "transact_write_items", failing_transaction)
    response = api("PUT", "/providers/openrouter", body={"api_key": SECOND_KEY})
    monkeypatch.undo()

    # Then the caller gets an internal error and the earlier key stays current everywhere
    assert response.status == 500
    assert response.json["error"]["code"] == "internal_error"
    assert api("GET", "/providers/openrouter").json == before
    assert aws.secret_value("org_123", "openrouter") == FIRST_KEY
