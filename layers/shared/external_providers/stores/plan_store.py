"""Each org's plan, as the last `OrgPlanChanged` event gave it, in the DynamoDB table.

One item per org, beside its provider items: partition key `ORG#<org_id>`, sort key `PLAN`.
An org without this item has no recorded plan change. The resolver treats it as enterprise,
because only enterprise orgs can save keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_serializer

from external_providers.stores.provider_store import from_item, org_partition, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

PLAN_SORT_KEY = "PLAN"


class OrgPlan(BaseModel):
    """An org's plan and when it changed, as the time of the event that reported it."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    plan: str
    changed_at: datetime

    @field_serializer("changed_at")
    def _fixed_width_utc(self, changed_at: datetime) -> str:
        # Fixed width and UTC, so that DynamoDB's string comparison orders the times.
        return changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plan_key(org_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": org_partition(org_id)}, "sk": {"S": PLAN_SORT_KEY}}


def plan_from_item(item: dict[str, Any]) -> OrgPlan:
    return OrgPlan.model_validate(from_item(item))


class PlanStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def get(self, org_id: str) -> OrgPlan | None:
        """Return the org's recorded plan, or None when no change was ever recorded."""
        response = self._client.get_item(
            TableName=self._table_name, Key=plan_key(org_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return plan_from_item(response["Item"])

    def record(self, change: OrgPlan) -> bool:
        """Store the org's plan unless a later change is stored already.

        Events can arrive out of order or twice, so the change with the latest `changed_at`
        wins. Returns False when a later change was stored and this one was skipped.

        NOTE: EventBridge delivers event times in whole seconds (`2026-12-04T19:00:00Z`), so
        of two changes of one org within one second, the one recorded last wins.
        """
        item = to_item(change, pk=org_partition(change.org_id), sk=PLAN_SORT_KEY)
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR changed_at <= :changed_at",
                ExpressionAttributeValues={":changed_at": item["changed_at"]},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
