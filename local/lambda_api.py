"""The local Lambda Invoke API, as boto3's `lambda` client calls it (like `sam local start-lambda`).

Only `Invoke` is served: `POST /2015-03-31/functions/{FunctionName}/invocations`, where
FunctionName is the logical id in `template.yaml`, the local function name or its ARN.
Errors have the shape boto3 parses into `client.exceptions.<Code>`.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from local.functions import FunctionError, FunctionNotFoundError, FunctionRuntime

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<function>[^/]+)/invocations")

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's limit on a synchronous invocation's request payload: 6 MB."""

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


class LambdaInvokeApi:
    """A WSGI application that invokes the template's functions like the Lambda service.

    Parameters
    ----------
    runtime
        Invokes the functions.
    function_arn_prefix
        `arn:aws:lambda:<region>:<account>:function:`, for error messages like Lambda's.
    """

    def __init__(self, runtime: FunctionRuntime, *, function_arn_prefix: str) -> None:
        self._runtime = runtime
        self._function_arn_prefix = function_arn_prefix

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        route = INVOKE_PATH.fullmatch(request.path)
        if route is None or request.method != "POST":
            return error_response(
                404,
                "UnknownOperationException",
                "The local Lambda endpoint serves only Invoke: "
                "POST /2015-03-31/functions/{FunctionName}/invocations",
            )

        function_name = route.group("function")
        qualifier = request.args.get("Qualifier")
        if qualifier not in (None, "$LATEST"):
            return self._not_found(f"{function_name}:{qualifier}")
        try:
            spec = self._runtime.find(function_name)
        except FunctionNotFoundError:
            return self._not_found(function_name)

        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in INVOCATION_TYPES:
            return error_response(
                400,
                "InvalidParameterValueException",
                f"InvocationType {invocation_type!r} is not one of {list(INVOCATION_TYPES)}",
            )

        payload = request.get_data(cache=False)
        if len(payload) > MAX_PAYLOAD_BYTES:
            return error_response(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the Invoke operation",
            )
        try:
            event: Any = json.loads(payload) if payload.strip() else {}
        except ValueError as error:
            return error_response(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )

        if invocation_type == "DryRun":
            return Response(status=204)
        if invocation_type == "Event":
            self._runtime.invoke_async(spec.logical_id, event)
            return Response(status=202)
        return self._invoke(spec.logical_id, event)

    def _invoke(self, logical_id: str, event: Any) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id}
        try:
            result = self._runtime.invoke(logical_id, event, request_id=request_id)
        except FunctionError as error:
            # Lambda returns 200 for a function's own failure and flags it in a header.
            headers["X-Amz-Function-Error"] = "Unhandled"
            return Response(
                json.dumps(error.payload),
                status=200,
                headers=headers,
                content_type="application/json",
            )
        return Response(result, status=200, headers=headers, content_type="application/json")

    def _not_found(self, function_name: str) -> Response:
        is_arn = function_name.startswith("arn:")
        arn = function_name if is_arn else f"{self._function_arn_prefix}{function_name}"
        return error_response(404, "ResourceNotFoundException", f"Function not found: {arn}")


def error_response(status: int, code: str, message: str) -> Response:
    """Build an error as the Lambda service sends it, which boto3 raises as `exceptions.<code>`."""
    return Response(
        json.dumps({"Type": "User", "message": message}),
        status=status,
        headers={"x-amzn-ErrorType": code},
        content_type="application/json",
    )
