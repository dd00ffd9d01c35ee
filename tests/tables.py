"""Test tables built from the key schema in `template.yaml`, so tests cannot drift from it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _TagIgnoringLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Reads CloudFormation short tags (!Ref, !Sub, ...) as plain values."""


_TagIgnoringLoader.add_multi_constructor(
    "!",
    lambda loader, suffix, node: None,  # the table schema uses no intrinsic functions
)


def create_template_tables(dynamodb: DynamoDBClient) -> dict[str, str]:
    """Create every DynamoDB table of the template; return their names by logical id."""
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_TagIgnoringLoader)  # noqa: S506
    names = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        options = {key: properties[key] for key in ("GlobalSecondaryIndexes",) if key in properties}
        dynamodb.create_table(
            TableName=logical_id,
            KeySchema=properties["KeySchema"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            BillingMode=properties["BillingMode"],
            **options,
        )
        names[logical_id] = logical_id
    return names
