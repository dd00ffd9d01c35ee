"""OpenRouter client: key validity, the key's spending cap and the account balance."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ValidationError

from external_providers.domain import Credit, Provider, Status
from external_providers.providers.base import KeyCheck
from external_providers.providers.http import ProviderHttp, Sleep, json_object
from external_providers.settings import Settings

INVALID_KEY_REASON = (
    "OpenRouter rejected the key: it is invalid, disabled or deleted. "
    "Create a new key at openrouter.ai/settings/keys and save it here."
)
NEVER_PURCHASED_REASON = (
    "The OpenRouter account has never purchased credits, so the key can use free models only. "
    "Buy credits at openrouter.ai/settings/credits, then save the key again."
)
KEY_LIMIT_REACHED_REASON = (
    "The key has reached its spending limit at OpenRouter. "
    "Raise or remove the key's limit at openrouter.ai/settings/keys."
)
NO_CREDITS_REASON = (
    "The OpenRouter account has no credits left. "
    "Buy credits at openrouter.ai/settings/credits, or turn on auto top-up there."
)
PAYMENT_REFUSED_REASON = (
    "OpenRouter refused a paid request made with this key: the account has no credits left "
    "or the key has reached its spending limit. Buy credits at openrouter.ai/settings/credits "
    "or raise the key's limit at openrouter.ai/settings/keys."
)


class _KeyInfo(BaseModel):
    """The `data` object of `GET /key`. `limit` is the key's own cap in USD, not the balance."""

    limit: float | None = None
    limit_remaining: float | None = None
    is_free_tier: bool = False

    @property
    def limit_reached(self) -> bool:
        return (
            self.limit is not None
            and self.limit_remaining is not None
            and self.limit_remaining <= 0
        )


class _AccountCredits(BaseModel):
    """The `data` object of `GET /credits`, in USD."""

    total_credits: float
    total_usage: float


class OpenRouterClient:
    """Check OpenRouter keys against `settings.openrouter_base_url`.

    A check reads the key (`GET /key`), then the account balance (`GET /credits`). An
    ordinary key may get 403 from `/credits`, which leaves the balance unknown rather than
    zero. Only then, and only with `allow_spend` and `settings.openrouter_payment_probe`,
    one chat completion of one output token with `settings.openrouter_probe_model` shows
    whether the account can pay (402 when it cannot).
    """

    def __init__(
        self,
        settings: Settings,
        http: httpx.Client | None = None,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._settings = settings
        self._base_url = settings.openrouter_base_url.rstrip("/")
        self._http = ProviderHttp(Provider.OPENROUTER, settings, http, sleep=sleep)

    def check_key(self, api_key: str, *, allow_spend: bool) -> KeyCheck:
        """Check that a key is valid and its account can pay, and read its credit.

        Raises `ProviderUnavailable` when OpenRouter cannot be reached, fails, or returns a
        response this client cannot interpret.
        """
        key_info = self._read_key(api_key)
        if key_info is None:
            return KeyCheck(Status.INVALID_KEY, None, INVALID_KEY_REASON)

        balance = self._read_balance(api_key)
        credit = self._credit(balance, key_info)

        if key_info.is_free_tier:
            return KeyCheck(Status.INSUFFICIENT_CREDITS, credit, NEVER_PURCHASED_REASON)
        if key_info.limit_reached:
            return KeyCheck(Status.INSUFFICIENT_CREDITS, credit, KEY_LIMIT_REACHED_REASON)
        if balance is not None and balance <= 0:
            return KeyCheck(Status.INSUFFICIENT_CREDITS, credit, NO_CREDITS_REASON)

        if balance is None and allow_spend and self._settings.openrouter_payment_probe:
            probe_status = self._probe_payment(api_key)
            if probe_status is Status.INVALID_KEY:
                return KeyCheck(Status.INVALID_KEY, None, INVALID_KEY_REASON)
            if probe_status is Status.INSUFFICIENT_CREDITS:
                return KeyCheck(Status.INSUFFICIENT_CREDITS, credit, PAYMENT_REFUSED_REASON)

        return KeyCheck(Status.ACTIVE, credit)

    def _read_key(self, api_key: str) -> _KeyInfo | None:
        """Return the key's details, or None when OpenRouter rejects the key (401)."""
        response = self._http.get(f"{self._base_url}/key", api_key)
        if response.status_code == 401:
            return None
        if response.status_code != 200:
            raise self._http.unexpected(response, "reading the key")

        try:
            return _KeyInfo.model_validate((json_object(response) or {}).get("data"))
        except ValidationError:
            raise self._http.unexpected(response, "reading the key") from None

    def _read_balance(self, api_key: str) -> float | None:
        """Return total credits minus total usage, or None when the key may not read them."""
        response = self._http.get(f"{self._base_url}/credits", api_key)
        # Ordinary keys may get 403 (management key required); 401 here has been seen to
        # be transient right after `/key` accepted the key. Neither means a zero balance.
        if response.status_code in (401, 403):
            return None
        if response.status_code != 200:
            raise self._http.unexpected(response, "reading the account balance")

        try:
            credits = _AccountCredits.model_validate((json_object(response) or {}).get("data"))
        except ValidationError:
            raise self._http.unexpected(response, "reading the account balance") from None
        return credits.total_credits - credits.total_usage

    def _probe_payment(self, api_key: str) -> Status:
        """Spend one output token to learn whether the account can pay.

        Returns `active`, `insufficient_credits` (402) or `invalid_key` (401).
        """
        payload = {
            "model": self._settings.openrouter_probe_model,
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 1,
        }
        response = self._http.post_billable(f"{self._base_url}/chat/completions", api_key, payload)
        if response.status_code == 200:
            return Status.ACTIVE
        if response.status_code == 402:
            return Status.INSUFFICIENT_CREDITS
        if response.status_code == 401:
            return Status.INVALID_KEY
        # NOTE: a 400 or 404 here (probe model renamed, or an account privacy setting that
        # excludes every provider of that model) raises ProviderUnavailable, so Save fails
        # until `openrouter_probe_model` names a model the account may use.
        raise self._http.unexpected(response, "checking that the account can pay")

    def _credit(self, balance: float | None, key_info: _KeyInfo) -> Credit:
        remaining = balance
        cap_remaining = key_info.limit_remaining if key_info.limit is not None else None
        if remaining is not None and cap_remaining is not None:
            remaining = min(remaining, cap_remaining)
        return Credit(
            remaining=remaining,
            limit=key_info.limit,
            checked_at=datetime.now(UTC),
            low=remaining is not None and remaining < self._settings.low_credit_threshold_usd,
        )
