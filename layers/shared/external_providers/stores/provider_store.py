"""Provider state and audit entries in the DynamoDB table.

Items of one org share the partition key `ORG#<org_id>`; the sort key distinguishes them:
`PROVIDER#<provider>` for a provider's state, `AUDIT#<timestamp>#<id>` for audit entries.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

from external_providers.domain import Provider
from external_providers.errors import ServiceError
from external_providers.provider_config import AuditEntry, ProviderConfig

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef

PROVIDER_PREFIX = "PROVIDER#"
AUDIT_PREFIX = "AUDIT#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConcurrentUpdate(ServiceError):
    code = "conflict"
    http_status = 409


def org_partition(org_id: str) -> str:
    return f"ORG#{org_id}"


def to_item(model: BaseModel, **keys: str) -> dict[str, Any]:
    """Serialize a model to a DynamoDB item; floats become Decimals, as DynamoDB requires."""
    attributes = json.loads(model.model_dump_json(), parse_float=Decimal)
    attributes.update(keys)
    return {name: _serializer.serialize(value) for name, value in attributes.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def provider_key(org_id: str, provider: Provider) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": org_partition(org_id)}, "sk": {"S": PROVIDER_PREFIX + provider.value}}


def config_from_item(
    org_id: str, provider: Provider, item: dict[str, Any] | None
) -> ProviderConfig:
    """Parse a provider item. No item (None) gives the state of a provider never configured."""
    if item is None:
        return ProviderConfig(org_id=org_id, provider=provider)
    return ProviderConfig.model_validate(from_item(item))


class ProviderStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def get(self, org_id: str, provider: Provider) -> ProviderConfig:
        """Return the provider's state, or the state of a provider never configured."""
        response = self._client.get_item(
            TableName=self._table_name, Key=provider_key(org_id, provider), ConsistentRead=True
        )
        return config_from_item(org_id, provider, response.get("Item"))

    def list_all(self, org_id: str) -> list[ProviderConfig]:
        """Return the state of every provider, in the order of the `Provider` enum."""
        response = self._client.query(
            TableName=self._table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": org_partition(org_id)},
                ":prefix": {"S": PROVIDER_PREFIX},
            },
            ConsistentRead=True,
        )
        stored = {
            config.provider: config
            for config in (
                ProviderConfig.model_validate(from_item(item)) for item in response["Items"]
            )
        }
        return [
            stored.get(provider, ProviderConfig(org_id=org_id, provider=provider))
            for provider in Provider
        ]

    def save(self, config: ProviderConfig, audit: AuditEntry) -> None:
        """Write the provider's state and its audit entry in one transaction.

        `config.revision` must be one more than the stored revision; otherwise another
        request wrote in between, and `ConcurrentUpdate` is raised with nothing written.
        """
        partition = org_partition(config.org_id)
        state_put: PutTypeDef = {
            "TableName": self._table_name,
            "Item": to_item(config, pk=partition, sk=PROVIDER_PREFIX + config.provider.value),
            "ConditionExpression": "attribute_not_exists(pk) OR revision = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(config.revision - 1)}},
        }
        audit_put: PutTypeDef = {
            "TableName": self._table_name,
            "Item": to_item(
                audit,
                pk=partition,
                sk=f"{AUDIT_PREFIX}{audit.at.isoformat()}#{uuid.uuid4().hex[:12]}",
            ),
        }
        try:
            self._client.transact_write_items(
                TransactItems=[{"Put": state_put}, {"Put": audit_put}]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = [
                reason.get("Code") for reason in error.response.get("CancellationReasons", [])
            ]
            if "ConditionalCheckFailed" in reasons:
                raise ConcurrentUpdate(
                    f"The {config.provider.display_name} settings changed while saving. "
                    "Reload them and try again."
                ) from error
            raise
