"""Resolver: agent services invoke it before each model call to learn the route and key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from external_providers.resolution import ResolverRequest
from external_providers.resolver import Resolver, build_resolver, get_resolver_settings
from external_providers.routing import Reason
from external_providers.validation_messages import describe_problems

logger = Logger()
# Only botocore: patching every library X-Ray supports would import httpx on the hot path.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()

_resolver: Resolver | None = None


def resolver() -> Resolver:
    global _resolver
    if _resolver is None:
        _resolver = build_resolver(get_resolver_settings())
    return _resolver


# The response carries the key, so the tracer must not record it.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    try:
        request = ResolverRequest.model_validate(event)
    except ValidationError as error:
        problems = describe_problems(error.errors(), whole="request")
        message = f"Invalid resolver request. {problems}"
        logger.info("invalid resolver request", problems=message)
        return {"error": {"code": "invalid_request", "message": message}}

    resolution = resolver().resolve(request.org_id, request.usage)

    if resolution.reason is Reason.LOOKUP_FAILED:
        metrics.add_metric(name="ResolverLookupFailed", unit=MetricUnit.Count, value=1)
    logger.debug(
        "resolved route",
        org_id=request.org_id,
        usage=request.usage,
        route=resolution.route,
        reason=resolution.reason,
    )
    return resolution.to_payload()
