"""The agent services' client of the resolver: one Lambda invoke per org, usage kind and TTL.

    client = ResolverClient("ResolverFunction", endpoint_url="http://127.0.0.1:3001")
    resolution = client.resolve("org_123", UsageKind.MESSAGE_TOKENS)
    if resolution.route is Route.PROVIDER:
        api_key = resolution.api_key.get_secret_value()

`resolve` never raises: a failed invoke, a function error or a response that does not parse
gives the platform route with reason `lookup_failed`, and is logged. It needs boto3 and
pydantic only, and logs with the standard `logging` module, as a library should.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from external_providers.domain import UsageKind
from external_providers.resolution import Resolution
from external_providers.routing import Reason
from external_providers.ttl_cache import TtlCache
from external_providers.validation_messages import describe_problems

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

logger = logging.getLogger(__name__)

# A warm resolver responds in milliseconds, and the read timeout leaves room for a cold
# start. One retry only, because an agent message waits for the response.
DEFAULT_LAMBDA_CONFIG = Config(
    connect_timeout=1,
    read_timeout=5,
    retries={"mode": "standard", "total_max_attempts": 2},
)


class ResolverClient:
    """Invokes the resolver function and caches its responses per org and usage kind.

    Parameters
    ----------
    function_name
        The resolver's name or ARN (the stack output `ResolverFunctionArn`), or its logical
        id `ResolverFunction` on the local stack.
    lambda_client
        A boto3 Lambda client to use; by default one is built from `endpoint_url`,
        `region_name` and `config`.
    endpoint_url
        The Lambda endpoint, such as the local stack's `http://127.0.0.1:3001`.
    cache_ttl_seconds
        Seconds a response is reused. A change saved in the dashboard reaches the agent
        service within this TTL plus the resolver's own `ResolverConfigTtlSeconds`.
    failure_ttl_seconds
        Seconds a `lookup_failed` response is reused, so a failing resolver is not invoked
        for every message and traffic returns to the provider soon after it recovers.
    """

    def __init__(
        self,
        function_name: str,
        *,
        lambda_client: LambdaClient | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: Config = DEFAULT_LAMBDA_CONFIG,
        cache_ttl_seconds: float = 5.0,
        failure_ttl_seconds: float = 1.0,
        max_cache_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._function_name = function_name
        self._lambda = lambda_client or boto3.client(
            "lambda", endpoint_url=endpoint_url, region_name=region_name, config=config
        )
        self._failure_ttl_seconds = failure_ttl_seconds
        self._cache: TtlCache[tuple[str, str], Resolution] = TtlCache(
            cache_ttl_seconds, max_cache_entries, clock
        )

    def resolve(self, org_id: str, usage: UsageKind | str) -> Resolution:
        """Return where this usage of the org goes, from the cache or the resolver."""
        cache_key = (org_id, str(usage))
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached

        resolution = self._invoke(org_id, str(usage))

        if resolution.reason is Reason.LOOKUP_FAILED:
            self._cache.put(cache_key, resolution, self._failure_ttl_seconds)
        else:
            self._cache.put(cache_key, resolution)
        return resolution

    def invalidate(self, org_id: str, usage: UsageKind | str | None = None) -> None:
        """Drop cached responses of an org, such as after the provider rejected its key.

        `usage=None` drops those of every usage kind.
        """
        kinds = [str(usage)] if usage is not None else [str(kind) for kind in UsageKind]
        for kind in kinds:
            self._cache.pop((org_id, kind))

    def clear_cache(self) -> None:
        self._cache.clear()

    def _invoke(self, org_id: str, usage: str) -> Resolution:
        try:
            response = self._lambda.invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=json.dumps({"org_id": org_id, "usage": usage}).encode(),
            )
            payload: Any = json.loads(response["Payload"].read())
        except (ClientError, BotoCoreError, ValueError) as error:
            logger.warning(
                "resolver invoke failed for org %s, usage %s: %s; using the platform",
                org_id,
                usage,
                _describe(error),
            )
            return Resolution.platform(Reason.LOOKUP_FAILED)

        if "FunctionError" in response:
            error_type = payload.get("errorType") if isinstance(payload, dict) else None
            logger.warning(
                "resolver failed for org %s, usage %s: %s %s; using the platform",
                org_id,
                usage,
                response["FunctionError"],
                error_type,
            )
            return Resolution.platform(Reason.LOOKUP_FAILED)

        return self._parse(org_id, usage, payload)

    @staticmethod
    def _parse(org_id: str, usage: str, payload: Any) -> Resolution:
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            logger.error(
                "resolver rejected the request for org %s, usage %s: %s %s; using the platform",
                org_id,
                usage,
                payload["error"].get("code"),
                payload["error"].get("message"),
            )
            return Resolution.platform(Reason.LOOKUP_FAILED)

        try:
            return Resolution.model_validate(payload)
        except ValidationError as error:
            # The error's own text would show the input, and the input carries the key.
            logger.error(
                "resolver response for org %s, usage %s is invalid: %s; using the platform",
                org_id,
                usage,
                describe_problems(error.errors(), whole="response"),
            )
            return Resolution.platform(Reason.LOOKUP_FAILED)


def _describe(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", type(error).__name__))
    return type(error).__name__
