"""Dashboard API: an org's provider keys, switches and their validation."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from external_providers.api_models import (
    ErrorBody,
    ProviderSettings,
    ProviderSettingsList,
    SaveProviderRequest,
)
from external_providers.caller import Caller, caller_from_claims
from external_providers.composition import build_provider_service
from external_providers.domain import Provider
from external_providers.errors import ServiceError
from external_providers.provider_service import ProviderService
from external_providers.settings import get_settings
from external_providers.validation_messages import describe_problems

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver(enable_validation=True)

ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    status: {
        "description": description,
        "content": {"application/json": {"model": ErrorBody}},
    }
    for status, description in {
        400: "invalid_request: a field is missing, of the wrong type or malformed",
        401: "unauthorized: no valid token",
        403: "forbidden or enterprise_plan_required",
        409: "key_required: enabling with no key stored; conflict: a concurrent change",
        422: "invalid_key, insufficient_credits or insufficient_scope: the provider rejected it",
        503: "provider_unavailable: the provider could not be reached or failed; try again",
        500: "internal_error",
    }.items()
}

MEDIA_TYPE = re.compile(r"^[a-z0-9.+-]{1,64}/[a-z0-9.+-]{1,64}$")

ProviderPath = Annotated[Provider, Path(description="openrouter or openai")]

_service: ProviderService | None = None


def provider_service() -> ProviderService:
    global _service
    if _service is None:
        _service = build_provider_service(get_settings())
    return _service


def current_caller() -> Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim
    return caller_from_claims(claims)


@app.get("/providers", responses=ERROR_RESPONSES, summary="Both providers' settings")
def list_providers() -> ProviderSettingsList:
    configs = provider_service().list_all(current_caller())
    return ProviderSettingsList(providers=[ProviderSettings.from_config(c) for c in configs])


@app.get("/providers/<provider>", responses=ERROR_RESPONSES, summary="One provider's settings")
def get_provider(provider: ProviderPath) -> ProviderSettings:
    config = provider_service().get(current_caller(), provider)
    return ProviderSettings.from_config(config)


@app.put(
    "/providers/<provider>",
    responses=ERROR_RESPONSES,
    summary="Save: validate a new key, store it and apply the switch",
)
def save_provider(
    provider: ProviderPath, body: Annotated[SaveProviderRequest, Body()]
) -> ProviderSettings:
    caller = current_caller()
    logger.info(
        "saving provider settings",
        org_id=caller.org_id,
        provider=provider,
        new_key=body.api_key is not None,
        enabled=body.enabled,
    )

    config = provider_service().save(caller, provider, body.api_key, body.enabled)

    metrics.add_metric(name="ProviderSettingsSaved", unit=MetricUnit.Count, value=1)
    return ProviderSettings.from_config(config)


@app.post(
    "/providers/<provider>/validate",
    responses=ERROR_RESPONSES,
    summary="Validate the stored key again and record its status",
)
def validate_provider(provider: ProviderPath) -> ProviderSettings:
    config = provider_service().revalidate(current_caller(), provider)
    return ProviderSettings.from_config(config)


@app.delete(
    "/providers/<provider>",
    responses={204: {"description": "Key removed and provider switched off"}, **ERROR_RESPONSES},
    summary="Remove the key and switch the provider off",
)
def delete_provider(provider: ProviderPath) -> Response[None]:
    provider_service().delete(current_caller(), provider)
    return Response(status_code=HTTPStatus.NO_CONTENT)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(title="External providers API", version="1.0.0"),
    )


def error_response(status: int, code: str, message: str) -> Response[dict[str, Any]]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message}},
    )


@app.exception_handler(ServiceError)
def handle_service_error(error: ServiceError) -> Response[dict[str, Any]]:
    logger.info("request failed", code=error.code, status=error.http_status)
    return error_response(error.http_status, error.code, error.message)


@app.exception_handler(RequestValidationError)
def handle_invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    problems = describe_problems(error.errors(), whole="body", skip={"body"})
    logger.info("invalid request", problems=problems)
    return error_response(400, "invalid_request", f"Invalid request. {problems}")


@app.exception_handler([ClientError, BotoCoreError])
def handle_aws_error(error: ClientError | BotoCoreError) -> Response[dict[str, Any]]:
    logger.exception("AWS call failed")
    return error_response(
        500, "internal_error", "The change could not be stored; nothing was changed. Try again."
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    rejection = reject_non_json_body(event)
    if rejection is not None:
        return rejection
    return app.resolve(event, context)


def reject_non_json_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Return a 400 response for a body sent as anything but JSON, else None.

    The event handler would parse a form body into fields named after its text, so a JSON
    body sent with curl's default form content type would become a field named after the key.
    """
    content_type = (event.get("headers") or {}).get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not event.get("body") or media_type in ("", "application/json"):
        return None

    shown = media_type if MEDIA_TYPE.match(media_type) else "another type"
    logger.info("invalid request", problems=f"body sent as {shown}")
    return {
        "statusCode": 400,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(
            {
                "error": {
                    "code": "invalid_request",
                    "message": (
                        f"Invalid request. body: sent as {shown}; send it as JSON with the "
                        "header Content-Type: application/json."
                    ),
                }
            },
            separators=(",", ":"),
        ),
        "isBase64Encoded": False,
    }
