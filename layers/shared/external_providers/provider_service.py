"""Dashboard operations on an org's providers: read, save, validate again, delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from external_providers.api_keys import key_hint, normalize_key
from external_providers.caller import Caller
from external_providers.domain import Provider, Status
from external_providers.errors import (
    InvalidRequest,
    KeyRejected,
    KeyRequired,
    ProviderUnavailable,
    ServiceError,
)
from external_providers.provider_config import AuditAction, AuditEntry, ProviderConfig
from external_providers.providers.base import KeyCheck, ProviderClient
from external_providers.stores.provider_store import ProviderStore
from external_providers.stores.secret_store import SecretStore

logger = Logger(child=True)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProviderService:
    def __init__(
        self,
        store: ProviderStore,
        secrets: SecretStore,
        client_for: Callable[[Provider], ProviderClient],
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._secrets = secrets
        self._client_for = client_for
        self._clock = clock

    def list_all(self, caller: Caller) -> list[ProviderConfig]:
        return self._store.list_all(caller.org_id)

    def get(self, caller: Caller, provider: Provider) -> ProviderConfig:
        return self._store.get(caller.org_id, provider)

    def save(
        self, caller: Caller, provider: Provider, api_key: str | None, enabled: bool | None
    ) -> ProviderConfig:
        """Validate a new key with the provider, store it and apply the switch.

        Enabling always validates, with the new key or the stored one. When validation or
        storage fails, the previous key, switch and status stay as they were.
        """
        caller.require_writer()
        if api_key is None and enabled is None:
            raise InvalidRequest("The body needs api_key, enabled or both.")
        key = normalize_key(provider, api_key) if api_key is not None else None
        current = self._store.get(caller.org_id, provider)

        if key is not None:
            return self._save_key(caller, current, key, enabled)
        if enabled:
            return self._enable_stored_key(caller, current)
        return self._write(
            caller, current.model_copy(update={"enabled": False}), AuditAction.PROVIDER_DISABLED
        )

    def _save_key(
        self, caller: Caller, current: ProviderConfig, key: str, enabled: bool | None
    ) -> ProviderConfig:
        check = self._check_or_reject(current.provider, key)

        version = self._secrets.put(caller.org_id, current.provider, key)
        now = self._clock()
        updated = current.model_copy(
            update={
                "enabled": current.enabled if enabled is None else enabled,
                "status": Status.ACTIVE,
                "key_hint": key_hint(key),
                "key_version": version,
                "validated_at": now,
                "credit": check.credit,
                "last_check_at": now,
                "last_check_error": None,
            }
        )
        try:
            return self._write(caller, updated, AuditAction.KEY_SAVED)
        except (ServiceError, ClientError, BotoCoreError):
            self._undo_secret_put(current, version)
            raise

    def _undo_secret_put(self, previous: ProviderConfig, version: str) -> None:
        """Put the secret back as it was before a save whose state write failed.

        The stored state still pins the previous version, so the new key is never used, even
        when this undo fails too. The undo only keeps the secret's current version accurate.
        """
        try:
            if previous.key_version is None:
                self._secrets.delete(previous.org_id, previous.provider)
            else:
                self._secrets.make_current(
                    previous.org_id, previous.provider, previous.key_version, version
                )
        except (ClientError, BotoCoreError):
            logger.exception(
                "failed to undo key storage after a failed save",
                org_id=previous.org_id,
                provider=previous.provider,
            )
            return
        logger.info(
            "undid key storage after a failed save",
            org_id=previous.org_id,
            provider=previous.provider,
        )

    def _enable_stored_key(self, caller: Caller, current: ProviderConfig) -> ProviderConfig:
        if current.key_version is None:
            raise KeyRequired(
                f"No {current.provider.display_name} key is stored. "
                "Save a key to switch the provider on."
            )
        key = self._secrets.get(caller.org_id, current.provider, current.key_version)
        check = self._check_or_reject(current.provider, key)
        now = self._clock()
        updated = current.model_copy(
            update={
                "enabled": True,
                "status": Status.ACTIVE,
                "validated_at": now,
                "credit": check.credit,
                "last_check_at": now,
                "last_check_error": None,
            }
        )
        return self._write(caller, updated, AuditAction.PROVIDER_ENABLED)

    def _check_or_reject(self, provider: Provider, key: str) -> KeyCheck:
        check = self._client_for(provider).check_key(key, allow_spend=True)
        if check.status is not Status.ACTIVE:
            logger.info("provider rejected key", provider=provider, status=check.status)
            raise KeyRejected(check.status.value, check.reason)
        return check

    def revalidate(self, caller: Caller, provider: Provider) -> ProviderConfig:
        """Check the stored key with the provider again and record the outcome.

        A rejected key gets its status (and stays stored); a provider that cannot be reached
        changes no status, records the failed check and raises `ProviderUnavailable`.
        """
        caller.require_writer()
        current = self._store.get(caller.org_id, provider)
        if current.key_version is None:
            raise KeyRequired(f"No {provider.display_name} key is stored. Save a key first.")
        key = self._secrets.get(caller.org_id, provider, current.key_version)

        try:
            check = self._client_for(provider).check_key(key, allow_spend=True)
        except ProviderUnavailable:
            failed = current.model_copy(
                update={"last_check_at": self._clock(), "last_check_error": "provider_unavailable"}
            )
            self._write(caller, failed, AuditAction.KEY_VALIDATED)
            raise

        now = self._clock()
        checked = current.model_copy(
            update={
                "status": check.status,
                "credit": check.credit or current.credit,
                "validated_at": now if check.status is Status.ACTIVE else current.validated_at,
                "last_check_at": now,
                "last_check_error": None,
            }
        )
        return self._write(caller, checked, AuditAction.KEY_VALIDATED)

    def delete(self, caller: Caller, provider: Provider) -> None:
        """Forget the key and switch the provider off; deleting twice is harmless.

        A provider never saved has no state to clear. Otherwise the state is written first,
        so a secret that then fails to delete is never used, and deleting again removes it.
        """
        caller.require_writer()
        current = self._store.get(caller.org_id, provider)
        if current.revision > 0:
            cleared = ProviderConfig(
                org_id=caller.org_id, provider=provider, revision=current.revision
            )
            self._write(caller, cleared, AuditAction.KEY_DELETED)
        self._secrets.delete(caller.org_id, provider)

    def _write(self, caller: Caller, config: ProviderConfig, action: AuditAction) -> ProviderConfig:
        now = self._clock()
        stored = config.model_copy(
            update={
                "updated_at": now,
                "updated_by": caller.user_id,
                "revision": config.revision + 1,
            }
        )
        audit = AuditEntry(
            org_id=stored.org_id,
            provider=stored.provider,
            action=action,
            actor=caller.user_id,
            at=now,
            enabled=stored.enabled,
            status=stored.status,
            key_hint=stored.key_hint,
        )
        self._store.save(stored, audit)
        logger.info(
            "provider settings changed",
            org_id=stored.org_id,
            provider=stored.provider,
            action=action,
            enabled=stored.enabled,
            status=stored.status,
        )
        return stored
