"""AWS for the local stack: moto's server on a local port, and the template's resources in it.

moto's `ThreadedMotoServer` binds its port on its own thread and waits forever if the port
is taken, so the local stack serves the same moto application (`DomainDispatcherApplication`
with `create_backend_app`, what `ThreadedMotoServer` runs) on a socket it has bound itself.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

from local.servers import RunningServer, start_server
from local.template import Template

logger = logging.getLogger(__name__)

FAKE_CREDENTIALS = {
    "aws_access_key_id": "local-access-key-id",
    "aws_secret_access_key": "local-secret-access-key",
}
"""moto accepts any credentials; these only keep boto3 from looking for real ones."""

# Resource types that other parts of the local stack serve, or that change nothing a
# developer can observe locally (logs, alarms, permissions).
HANDLED_ELSEWHERE = frozenset(
    {
        "AWS::Serverless::Function",
        "AWS::Serverless::LayerVersion",
        "AWS::Serverless::HttpApi",
    }
)
NOT_NEEDED_LOCALLY = frozenset(
    {
        "AWS::Logs::LogGroup",
        "AWS::Logs::SubscriptionFilter",
        "AWS::Logs::MetricFilter",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::CompositeAlarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SQS::QueuePolicy",
        "AWS::Events::EventBusPolicy",
    }
)


class QuietMotoRequestHandler(MotoRequestHandler):
    """moto's request handler without an access log line for every AWS call."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def start_moto(listener: socket.socket) -> RunningServer:
    """Serve moto's AWS emulation, all services on one port, on a bound socket."""
    app = DomainDispatcherApplication(create_backend_app)
    return start_server("moto", listener, app, request_handler=QuietMotoRequestHandler)


def aws_client(service_name: str, *, endpoint_url: str, region: str) -> Any:
    """Create a boto3 client for moto's server, with fake credentials."""
    return boto3.client(  # type: ignore[call-overload]
        service_name, endpoint_url=endpoint_url, region_name=region, **FAKE_CREDENTIALS
    )


@dataclass
class _Creation:
    template: Template
    logical_id: str
    properties: dict[str, Any]
    endpoint_url: str

    @property
    def name(self) -> str:
        return self.template.physical_name(self.logical_id)

    def client(self, service_name: str) -> Any:
        return aws_client(
            service_name, endpoint_url=self.endpoint_url, region=self.template.pseudo.region
        )


def create_resources(template: Template, endpoint_url: str) -> list[str]:
    """Create the template's tables, keys, queues and event buses in moto.

    Returns the logical ids created, in creation order. Each resource's identifiers are
    recorded in the template, so later `!Ref` and `!GetAtt` resolve to them.
    """
    supported = []
    for logical_id, resource in template.resources.items():
        resource_type = resource.get("Type", "")
        if not template.is_created(logical_id):
            logger.info("skipping %s: its condition is false", logical_id)
        elif resource_type in _CREATORS:
            supported.append(logical_id)
        elif resource_type not in HANDLED_ELSEWHERE | NOT_NEEDED_LOCALLY:
            logger.warning(
                "the local stack does not create %s (%s); code that uses it will fail locally",
                logical_id,
                resource_type,
            )

    created = []
    for logical_id in template.creation_order(supported):
        resource_type = template.resources[logical_id]["Type"]
        properties = template.resolve(template.properties(logical_id))
        _CREATORS[resource_type](_Creation(template, logical_id, properties, endpoint_url))
        logger.info("created %s (%s)", logical_id, resource_type)
        created.append(logical_id)
    return created


def _cloudformation_tags(properties: Mapping[str, Any]) -> list[dict[str, str]]:
    tags = properties.get("Tags") or []
    if isinstance(tags, dict):  # SAM resources take a map of tags
        return [{"Key": key, "Value": str(value)} for key, value in tags.items()]
    return [{"Key": tag["Key"], "Value": str(tag["Value"])} for tag in tags]


def _throughput(throughput: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
    }


def _secondary_index(index: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index.get("Projection", {"ProjectionType": "ALL"}),
    }
    if "ProvisionedThroughput" in index:
        request["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return request


def _create_table(creation: _Creation) -> None:
    properties = creation.properties
    request: dict[str, Any] = {
        "TableName": creation.name,
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "KeySchema": properties["KeySchema"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in properties:
        request["ProvisionedThroughput"] = _throughput(properties["ProvisionedThroughput"])
    if properties.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            _secondary_index(index) for index in properties["GlobalSecondaryIndexes"]
        ]
    if properties.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [
            _secondary_index(index) for index in properties["LocalSecondaryIndexes"]
        ]
    if "StreamSpecification" in properties:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    if "SSESpecification" in properties:
        request["SSESpecification"] = _sse_specification(properties["SSESpecification"])
    if "TableClass" in properties:
        request["TableClass"] = properties["TableClass"]
    if "DeletionProtectionEnabled" in properties:
        request["DeletionProtectionEnabled"] = bool(properties["DeletionProtectionEnabled"])
    if properties.get("Tags"):
        request["Tags"] = _cloudformation_tags(properties)

    dynamodb = creation.client("dynamodb")
    description = dynamodb.create_table(**request)["TableDescription"]

    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=creation.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    recovery = properties.get("PointInTimeRecoverySpecification") or {}
    if recovery.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=creation.name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )

    attributes = {"Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    creation.template.record(creation.logical_id, ref=creation.name, **attributes)


def _sse_specification(specification: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"Enabled": bool(specification.get("SSEEnabled", False))}
    if "SSEType" in specification:
        request["SSEType"] = specification["SSEType"]
    if "KMSMasterKeyId" in specification:
        request["KMSMasterKeyId"] = specification["KMSMasterKeyId"]
    return request


def _create_simple_table(creation: _Creation) -> None:
    # AWS::Serverless::SimpleTable: a table with one hash key, `id` of type String by default.
    properties = creation.properties
    primary_key = properties.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    attribute_type = {"String": "S", "Number": "N", "Binary": "B"}[primary_key["Type"]]
    table: dict[str, Any] = {
        "AttributeDefinitions": [
            {"AttributeName": primary_key["Name"], "AttributeType": attribute_type}
        ],
        "KeySchema": [{"AttributeName": primary_key["Name"], "KeyType": "HASH"}],
    }
    if "ProvisionedThroughput" in properties:
        table["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
    else:
        table["BillingMode"] = "PAY_PER_REQUEST"
    for name in ("SSESpecification", "Tags"):
        if name in properties:
            table[name] = properties[name]
    _create_table(_Creation(creation.template, creation.logical_id, table, creation.endpoint_url))


def _create_kms_key(creation: _Creation) -> None:
    properties = creation.properties
    request: dict[str, Any] = {}
    for name in ("Description", "KeyUsage", "KeySpec", "MultiRegion"):
        if name in properties:
            request[name] = properties[name]
    if "KeyPolicy" in properties:
        policy = properties["KeyPolicy"]
        request["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
    if properties.get("Tags"):
        request["Tags"] = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]}
            for tag in _cloudformation_tags(properties)
        ]

    kms = creation.client("kms")
    metadata = kms.create_key(**request)["KeyMetadata"]
    if properties.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    if properties.get("Enabled") is False:
        kms.disable_key(KeyId=metadata["KeyId"])

    creation.template.record(
        creation.logical_id, ref=metadata["KeyId"], Arn=metadata["Arn"], KeyId=metadata["KeyId"]
    )


def _create_kms_alias(creation: _Creation) -> None:
    alias_name = creation.properties["AliasName"]
    creation.client("kms").create_alias(
        AliasName=alias_name, TargetKeyId=creation.properties["TargetKeyId"]
    )
    creation.template.record(creation.logical_id, ref=alias_name)


# CloudFormation properties of AWS::SQS::Queue that are SetQueueAttributes attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


def _create_queue(creation: _Creation) -> None:
    properties = creation.properties
    name = creation.name
    if properties.get("FifoQueue") and not name.endswith(".fifo"):
        name += ".fifo"

    attributes = {}
    for attribute in _QUEUE_ATTRIBUTES:
        if attribute in properties:
            value = properties[attribute]
            if isinstance(value, dict):
                attributes[attribute] = json.dumps(value)
            elif isinstance(value, bool):
                attributes[attribute] = "true" if value else "false"
            else:
                attributes[attribute] = str(value)

    sqs = creation.client("sqs")
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if properties.get("Tags"):
        request["tags"] = {tag["Key"]: tag["Value"] for tag in _cloudformation_tags(properties)}
    queue_url = sqs.create_queue(**request)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]

    creation.template.record(
        creation.logical_id, ref=queue_url, Arn=arn, QueueName=name, QueueUrl=queue_url
    )


def _create_event_bus(creation: _Creation) -> None:
    request: dict[str, Any] = {"Name": creation.name}
    if "Description" in creation.properties:
        request["Description"] = creation.properties["Description"]
    if creation.properties.get("Tags"):
        request["Tags"] = _cloudformation_tags(creation.properties)
    arn = creation.client("events").create_event_bus(**request)["EventBusArn"]
    creation.template.record(creation.logical_id, ref=creation.name, Arn=arn, Name=creation.name)


_CREATORS: dict[str, Callable[[_Creation], None]] = {
    "AWS::DynamoDB::Table": _create_table,
    "AWS::Serverless::SimpleTable": _create_simple_table,
    "AWS::KMS::Key": _create_kms_key,
    "AWS::KMS::Alias": _create_kms_alias,
    "AWS::SQS::Queue": _create_queue,
    "AWS::Events::EventBus": _create_event_bus,
}
