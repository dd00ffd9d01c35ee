"""The repository's template.yaml for unit tests, with made-up ids for what moto would assign."""

from __future__ import annotations

from pathlib import Path

from local.template import Template

REPOSITORY = Path(__file__).resolve().parents[3]
KMS_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT = "us-east-1:123456789012"


def load_real_template(**overrides: str) -> Template:
    return Template.from_file(REPOSITORY / "template.yaml", parameter_overrides=overrides)


def record_service_ids(template: Template) -> Template:
    """Record the ids that local.aws would get from moto for every KMS key and SQS queue."""
    for logical_id, _ in template.resources_of_type("AWS::KMS::Key"):
        arn = f"arn:aws:kms:{ACCOUNT}:key/{KMS_KEY_ID}"
        template.record(logical_id, ref=KMS_KEY_ID, Arn=arn, KeyId=KMS_KEY_ID)
    for logical_id, _ in template.resources_of_type("AWS::SQS::Queue"):
        name = template.physical_name(logical_id)
        url = f"http://127.0.0.1:5000/123456789012/{name}"
        arn = f"arn:aws:sqs:{ACCOUNT}:{name}"
        template.record(logical_id, ref=url, Arn=arn, QueueName=name, QueueUrl=url)
    return template
