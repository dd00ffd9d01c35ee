"""The routing state of one org (its providers' state and its plan), read in one request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from external_providers.domain import Provider
from external_providers.provider_config import ProviderConfig
from external_providers.stores.plan_store import PLAN_SORT_KEY, plan_from_item, plan_key
from external_providers.stores.provider_store import (
    PROVIDER_PREFIX,
    config_from_item,
    provider_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef

# BatchGetItem returns keys it could not read (under throttling) as UnprocessedKeys and
# botocore does not retry them, so the store retries them itself a few times.
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.025


class IncompleteRead(Exception):
    """DynamoDB left keys unread after every attempt. The message names the org."""


class RoutingState(BaseModel):
    """Both providers' state and the plan of one org. `plan` is None when never recorded."""

    model_config = ConfigDict(frozen=True)

    org_id: str
    configs: dict[Provider, ProviderConfig]
    plan: str | None


class RoutingStateStore:
    """Reads both provider items and the plan item of an org with one BatchGetItem.

    Reads are strongly consistent, so a read after a change saved through the API returns it.
    The resolver reads each org at most once per cache TTL, so the extra capacity is small.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table_name = table_name
        self._sleep = sleep

    def read(self, org_id: str) -> RoutingState:
        """Read the org's routing state.

        Raises `IncompleteRead` when DynamoDB keeps keys unprocessed, and botocore's
        `ClientError` or `BotoCoreError` when the request fails.
        """
        pending: KeysAndAttributesTypeDef = {
            "Keys": [provider_key(org_id, provider) for provider in Provider] + [plan_key(org_id)],
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []

        for attempt in range(MAX_ATTEMPTS):
            if attempt:
                self._sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = self._client.batch_get_item(RequestItems={self._table_name: pending})
            items.extend(response.get("Responses", {}).get(self._table_name, []))
            unprocessed = response.get("UnprocessedKeys", {}).get(self._table_name)
            if not unprocessed or not unprocessed.get("Keys"):
                return self._state(org_id, items)
            pending = {"Keys": unprocessed["Keys"], "ConsistentRead": True}

        raise IncompleteRead(
            f"DynamoDB left keys of org {org_id} unprocessed after {MAX_ATTEMPTS} attempts"
        )

    @staticmethod
    def _state(org_id: str, items: list[dict[str, Any]]) -> RoutingState:
        by_sort_key = {item["sk"]["S"]: item for item in items}
        plan_item = by_sort_key.get(PLAN_SORT_KEY)
        return RoutingState(
            org_id=org_id,
            configs={
                provider: config_from_item(
                    org_id, provider, by_sort_key.get(PROVIDER_PREFIX + provider.value)
                )
                for provider in Provider
            },
            plan=plan_from_item(plan_item).plan if plan_item is not None else None,
        )
