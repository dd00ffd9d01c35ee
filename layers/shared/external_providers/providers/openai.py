"""OpenAI client: key validity, the embeddings permission and the account's quota."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from aws_lambda_powertools import Logger

from external_providers.domain import Credit, Provider, Status
from external_providers.errors import ProviderUnavailable
from external_providers.providers.base import KeyCheck
from external_providers.providers.http import ProviderHttp, Sleep, error_body
from external_providers.settings import Settings

logger = Logger(child=True)

INVALID_KEY_REASON = (
    "OpenAI rejected the key: it is invalid, revoked or belongs to another organization. "
    "Create a new key at platform.openai.com/api-keys and save it here."
)
NO_EMBEDDINGS_PERMISSION_REASON = (
    "The OpenAI key is not allowed to create embeddings. Give it Write access to "
    "Model capabilities at platform.openai.com/api-keys, or use a key with all permissions."
)
NO_QUOTA_REASON = (
    "The OpenAI account has run out of credits or reached a spending limit. "
    "Add credits or raise the limit in the billing settings at platform.openai.com."
)

# 429 codes that refuse for lack of money rather than ask to slow down; they are never
# retried. Codes ending in `_spend_limit_exceeded` belong here too.
QUOTA_CODES = frozenset({"insufficient_quota", "credit_balance_exhausted"})

# 403 that OpenAI sends when it does not serve the region the request comes from: the
# service's deployment, not the customer's key, is the problem.
UNSUPPORTED_REGION_CODE = "unsupported_country_region_territory"


def is_quota_refusal(response: httpx.Response) -> bool:
    """Return whether a 429 response means that the account cannot pay."""
    if response.status_code != 429:
        return False
    error = error_body(response)
    return (
        error.type == "insufficient_quota"
        or error.code in QUOTA_CODES
        or error.code.endswith("_spend_limit_exceeded")
    )


def is_missing_scopes(response: httpx.Response) -> bool:
    """Return whether OpenAI refused because a restricted key lacks a permission.

    OpenAI documents 403 "Missing scopes", but public reports show the same message with
    status 401. Either way the key itself was recognised, so it is not an invalid key.
    """
    if response.status_code == 403:
        return error_body(response).code != UNSUPPORTED_REGION_CODE
    if response.status_code == 401:
        return "Missing scopes" in error_body(response).message
    return False


class OpenAIClient:
    """Check OpenAI keys against `settings.openai_base_url`.

    `GET /models` rejects an invalid key with 401 (`invalid_api_key`,
    `mismatched_organization`); a restricted key may get "Missing scopes" there and still
    work, so the check goes on. OpenAI shows quota only on billable requests, so with
    `allow_spend` one embedding of one word with `settings.openai_probe_model` (a fraction
    of a cent) shows whether the key may create embeddings and the account can pay.

    Without `allow_spend` the check ends after `/models` and returns `active` whenever
    OpenAI recognised the key, also when `/models` was refused for missing scopes: such
    a restricted key passed the embedding request when it was saved, and a check that may
    not spend cannot learn more, so it must not take the key out of service.
    A project key cannot read the account balance, so credit is always unknown.

    NOTE: without `allow_spend` an exhausted quota looks `active`, so only a check that may
    spend (Save, or a re-check after traffic was refused) can find `insufficient_credits`.
    """

    def __init__(
        self,
        settings: Settings,
        http: httpx.Client | None = None,
        *,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._settings = settings
        self._base_url = settings.openai_base_url.rstrip("/")
        self._http = ProviderHttp(
            Provider.OPENAI, settings, http, is_quota_refusal=is_quota_refusal, sleep=sleep
        )

    def check_key(self, api_key: str, *, allow_spend: bool) -> KeyCheck:
        """Check that a key is valid, may create embeddings and its account can pay.

        Raises `ProviderUnavailable` when OpenAI cannot be reached, fails, still rate limits
        the key after one retry, or returns a response this client cannot interpret.
        """
        models = self._http.get(f"{self._base_url}/models", api_key)
        if models.status_code == 401 and not is_missing_scopes(models):
            return KeyCheck(Status.INVALID_KEY, None, INVALID_KEY_REASON)
        if models.status_code != 200 and not is_missing_scopes(models):
            raise self._refusal_error(models, "listing models")

        credit = Credit(remaining=None, limit=None, checked_at=datetime.now(UTC), low=False)
        if not allow_spend:
            return KeyCheck(Status.ACTIVE, credit)

        embeddings = self._http.post_billable(
            f"{self._base_url}/embeddings",
            api_key,
            {"model": self._settings.openai_probe_model, "input": "ping"},
        )
        if embeddings.status_code == 200:
            return KeyCheck(Status.ACTIVE, credit)
        if is_missing_scopes(embeddings):
            return KeyCheck(Status.INSUFFICIENT_SCOPE, credit, NO_EMBEDDINGS_PERMISSION_REASON)
        if embeddings.status_code == 401:
            return KeyCheck(Status.INVALID_KEY, None, INVALID_KEY_REASON)
        if is_quota_refusal(embeddings):
            return KeyCheck(Status.INSUFFICIENT_CREDITS, credit, NO_QUOTA_REASON)
        raise self._refusal_error(embeddings, "creating a test embedding")

    def _refusal_error(self, response: httpx.Response, step: str) -> ProviderUnavailable:
        if error_body(response).code == UNSUPPORTED_REGION_CODE:
            logger.error("openai rejected the service's region", path=response.request.url.path)
            return ProviderUnavailable(
                "OpenAI refused requests from the region this service runs in. "
                "Contact support: the key itself was not checked."
            )
        return self._http.unexpected(response, step)
