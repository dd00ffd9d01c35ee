"""Customers' API keys in Secrets Manager: one secret per org and provider, under one prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from external_providers.aws_clients import secrets_client
from external_providers.domain import Provider
from external_providers.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_secretsmanager.type_defs import CreateSecretRequestTypeDef

logger = Logger(child=True)


class SecretStore:
    """Stores, reads and deletes keys; each stored key is pinned by its secret version id."""

    def __init__(
        self,
        client: SecretsManagerClient,
        name_prefix: str,
        kms_key_id: str | None,
        recovery_window_days: int,
    ) -> None:
        self._client = client
        self._name_prefix = name_prefix
        self._kms_key_id = kms_key_id
        self._recovery_window_days = recovery_window_days

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretStore:
        """Build the store with the shared Secrets Manager client and the configured prefix."""
        return cls(
            secrets_client(),
            name_prefix=settings.secret_name_prefix,
            kms_key_id=settings.kms_key_id,
            recovery_window_days=settings.secret_recovery_window_days,
        )

    def secret_name(self, org_id: str, provider: Provider) -> str:
        return f"{self._name_prefix}{org_id}/{provider.value}"

    def put(self, org_id: str, provider: Provider, api_key: str) -> str:
        """Store a key as the secret's current version and return the version id.

        A secret pending deletion (a key deleted moments ago) is restored first, because
        Secrets Manager rejects new values for it with InvalidRequestException.
        """
        name = self.secret_name(org_id, provider)
        try:
            described = self._client.describe_secret(SecretId=name)
        except self._client.exceptions.ResourceNotFoundException:
            return self._create(name, org_id, provider, api_key)

        if "DeletedDate" in described:
            self._client.restore_secret(SecretId=name)
            logger.info("restored secret pending deletion", org_id=org_id, provider=provider)

        response = self._client.put_secret_value(SecretId=name, SecretString=api_key)
        return response["VersionId"]

    def _create(self, name: str, org_id: str, provider: Provider, api_key: str) -> str:
        request: CreateSecretRequestTypeDef = {
            "Name": name,
            "SecretString": api_key,
            "Description": f"{provider.value} API key of org {org_id}",
            "Tags": [
                {"Key": "org_id", "Value": org_id},
                {"Key": "provider", "Value": provider.value},
            ],
        }
        if self._kms_key_id:
            request["KmsKeyId"] = self._kms_key_id
        try:
            return self._client.create_secret(**request)["VersionId"]
        except self._client.exceptions.ResourceExistsException:
            # Another request created it between our describe and create.
            return self._client.put_secret_value(SecretId=name, SecretString=api_key)["VersionId"]

    def get(self, org_id: str, provider: Provider, version_id: str) -> str:
        """Return the key stored in one version of the org's secret."""
        response = self._client.get_secret_value(
            SecretId=self.secret_name(org_id, provider), VersionId=version_id
        )
        return response["SecretString"]

    def make_current(
        self, org_id: str, provider: Provider, version_id: str, replaced_version_id: str
    ) -> None:
        """Make an earlier version current again, undoing a `put` whose save failed."""
        self._client.update_secret_version_stage(
            SecretId=self.secret_name(org_id, provider),
            VersionStage="AWSCURRENT",
            MoveToVersionId=version_id,
            RemoveFromVersionId=replaced_version_id,
        )

    def delete(self, org_id: str, provider: Provider) -> None:
        """Schedule the secret's deletion; a secret already gone or pending deletion is fine."""
        name = self.secret_name(org_id, provider)
        try:
            self._client.delete_secret(
                SecretId=name, RecoveryWindowInDays=self._recovery_window_days
            )
        except self._client.exceptions.ResourceNotFoundException:
            return
        except self._client.exceptions.InvalidRequestException:
            # Raised for a secret already scheduled for deletion.
            logger.info("secret already pending deletion", org_id=org_id, provider=provider)
