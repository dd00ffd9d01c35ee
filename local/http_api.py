"""The local HTTP API: API Gateway's routing, JWT authorizer, CORS and payload format 2.0.

Requests are matched to the template's routes, authorized like the HTTP API's JWT
authorizer (HS256 with the local secret, see `local.tokens`), turned into a version 2.0
event and sent to the function in this process. The gateway's own responses have API
Gateway's bodies: `{"message":"Unauthorized"}`, `{"message":"Not Found"}` and so on.
Bodies and headers are never logged; each request gets one access log line.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from local.functions import FunctionError, FunctionRuntime
from local.http_routes import CorsConfiguration, HttpApi, Route
from local.tokens import TokenRejectedError, verify_token

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""API Gateway's limit on an HTTP API request's payload: 10 MB."""

GATEWAY_MESSAGES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
}

# Request bodies of these types reach the function as text; others are base64-encoded.
_TEXT_CONTENT_TYPE = re.compile(
    r"text/.*|application/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]+\+(json|xml))",
    re.IGNORECASE,
)


class _GatewayRequest(Request):
    max_content_length = MAX_REQUEST_BYTES


class InvalidFunctionResponseError(Exception):
    """The function returned something API Gateway cannot turn into an HTTP response."""


class HttpApiGateway:
    """A WSGI application that serves the template's HTTP API routes.

    Parameters
    ----------
    apis
        The HTTP APIs from `read_http_apis`; all their routes are served on one port, as
        `sam local start-api` does.
    runtime
        Invokes the functions.
    account_id
        The account id put in each event's request context.
    """

    def __init__(
        self, apis: Sequence[HttpApi], runtime: FunctionRuntime, *, account_id: str
    ) -> None:
        self._apis = list(apis)
        self._routes = sorted(
            (route for api in apis for route in api.routes), key=lambda route: route.specificity
        )
        self._runtime = runtime
        self._account_id = account_id

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = _GatewayRequest(environ)
        started = time.monotonic()
        request_id = _request_id()

        response = self._handle(request, request_id)
        response.headers["apigw-requestid"] = request_id

        logger.info(
            "%s %s %s %.0f ms",
            request.method,
            request.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response(environ, start_response)

    def _handle(self, request: Request, request_id: str) -> Response:
        origin = request.headers.get("Origin")
        cors = self._cors_for(request.path)
        is_preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        if is_preflight and origin is not None and cors is not None:
            return _preflight_response(cors, origin)

        response = self._route_request(request, request_id)
        if cors is not None:
            _apply_cors(response, cors, origin)
        return response

    def _route_request(self, request: Request, request_id: str) -> Response:
        route, path_parameters = self._match(request.method, request.path)
        if route is None:
            return gateway_response(404)

        if route.unsupported_authorizer is not None:
            logger.error(
                "route %s uses authorizer %s, which the local HTTP API cannot run",
                route.route_key,
                route.unsupported_authorizer,
            )
            return gateway_response(500)

        claims: dict[str, Any] | None = None
        if route.authorizer is not None:
            authorization = self._authorize(request, route)
            if isinstance(authorization, Response):
                return authorization
            claims = authorization

        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return gateway_response(413)

        event = build_event(
            request,
            route,
            path_parameters,
            claims,
            body=body,
            request_id=request_id,
            account_id=self._account_id,
        )
        return self._invoke(route, event)

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self._routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        for route in self._routes:
            if route.route_key == "$default":
                return route, {}
        return None, {}

    def _cors_for(self, path: str) -> CorsConfiguration | None:
        for api in self._apis:
            if any(route.matches_path(path) for route in api.routes):
                return api.cors
        configured = [api.cors for api in self._apis if api.cors is not None]
        return configured[0] if configured else None

    def _authorize(self, request: Request, route: Route) -> dict[str, Any] | Response:
        assert route.authorizer is not None
        authorizer = route.authorizer
        token = request.headers.get(authorizer.header, "").strip()
        # The identity source may hold the token alone or prefixed with `Bearer `.
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        if not token:
            return gateway_response(401)

        try:
            claims = verify_token(token, issuer=authorizer.issuer, audiences=authorizer.audiences)
        except TokenRejectedError as error:
            logger.info("token rejected on %s: %s", route.route_key, error)
            response = gateway_response(401)
            response.headers["www-authenticate"] = (
                f'Bearer error="invalid_token" error_description="{error}"'
            )
            return response

        if route.scopes and not set(route.scopes) & set(token_scopes(claims) or ()):
            logger.info("token lacks the scopes %s of %s", list(route.scopes), route.route_key)
            return gateway_response(403)
        return claims

    def _invoke(self, route: Route, event: dict[str, Any]) -> Response:
        try:
            result = self._runtime.invoke(route.function, event)
        except FunctionError:
            # The runtime has logged the function's error.
            return gateway_response(500)

        try:
            return function_response(json.loads(result))
        except InvalidFunctionResponseError as error:
            logger.error("function %s returned an invalid response: %s", route.function, error)
            return gateway_response(500)


def gateway_response(status: int) -> Response:
    """Build a response of API Gateway itself, such as `{"message":"Not Found"}`."""
    body = json.dumps({"message": GATEWAY_MESSAGES[status]}, separators=(",", ":"))
    return Response(body, status=status, content_type="application/json")


def _preflight_response(cors: CorsConfiguration, origin: str) -> Response:
    response = Response(status=204)
    response.headers.pop("Content-Type", None)
    if not cors.allows_origin(origin):
        return response

    _set_allow_origin(response, cors, origin)
    if cors.allow_methods:
        response.headers["Access-Control-Allow-Methods"] = ",".join(cors.allow_methods)
    if cors.allow_headers:
        response.headers["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers)
    if cors.max_age is not None:
        response.headers["Access-Control-Max-Age"] = str(cors.max_age)
    return response


def _apply_cors(response: Response, cors: CorsConfiguration, origin: str | None) -> None:
    # With CORS configured, API Gateway ignores the CORS headers a function returns.
    for name in list(response.headers.keys()):
        if name.lower().startswith("access-control-"):
            del response.headers[name]
    if origin is None or not cors.allows_origin(origin):
        return

    _set_allow_origin(response, cors, origin)
    if cors.expose_headers:
        response.headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)


def _set_allow_origin(response: Response, cors: CorsConfiguration, origin: str) -> None:
    wildcard = "*" in cors.allow_origins and not cors.allow_credentials
    response.headers["Access-Control-Allow-Origin"] = "*" if wildcard else origin
    if cors.allow_credentials:
        response.headers["Access-Control-Allow-Credentials"] = "true"


def build_event(
    request: Request,
    route: Route,
    path_parameters: Mapping[str, str],
    claims: Mapping[str, Any] | None,
    *,
    body: bytes,
    request_id: str,
    account_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Build the payload format 2.0 event that API Gateway sends for this request."""
    now = now or datetime.now(UTC)
    raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    raw_path = str(raw_uri).split("?", 1)[0]
    raw_query = request.query_string.decode("latin-1")
    host = request.host or "localhost"

    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        name = name.lower()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    # API Gateway moves cookies out of the headers into their own list.
    cookie_header = headers.pop("cookie", None)
    forwarded_for = request.remote_addr or "127.0.0.1"
    headers.setdefault("x-forwarded-for", forwarded_for)
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", str(request.environ.get("SERVER_PORT", "")))
    headers.setdefault("x-amzn-trace-id", _trace_id(now))

    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": route.api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": forwarded_for,
            "userAgent": request.headers.get("User-Agent", ""),
        },
        "requestId": request_id,
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {
            "jwt": {
                "claims": {name: claim_text(value) for name, value in claims.items()},
                "scopes": token_scopes(claims),
            }
        }

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookie_header:
        event["cookies"] = [cookie.strip() for cookie in cookie_header.split(";")]
    if raw_query:
        event["queryStringParameters"] = _query_parameters(raw_query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        event["body"], event["isBase64Encoded"] = _event_body(body, request.mimetype)
    return event


def claim_text(value: Any) -> str:
    """Convert a JWT claim to text as API Gateway passes it, with numbers and booleans written out.

    A list becomes `[a b]`, as API Gateway writes it, and an object becomes JSON text.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    """Return the token's scopes from its `scope` (space-separated) or `scp` claim, or None."""
    scopes = claims.get("scope", claims.get("scp"))
    if isinstance(scopes, str):
        return scopes.split()
    if isinstance(scopes, list):
        return [str(scope) for scope in scopes]
    return None


def _query_parameters(raw_query: str) -> dict[str, str]:
    # API Gateway joins repeated parameters with commas.
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _event_body(body: bytes, mimetype: str) -> tuple[str, bool]:
    if not mimetype or _TEXT_CONTENT_TYPE.fullmatch(mimetype):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def function_response(result: Any) -> Response:
    """Turn a function's payload format 2.0 result into the HTTP response.

    A result without `statusCode` is sent as a 200 JSON body, as API Gateway does.

    Raises
    ------
    InvalidFunctionResponseError
        The result has a `statusCode` but is not a valid 2.0 response.
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        text = result if isinstance(result, str) else json.dumps(result)
        return Response(text, status=200, content_type="application/json")

    status = result["statusCode"]
    headers = result.get("headers") or {}
    cookies = result.get("cookies") or []
    body = result.get("body")
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidFunctionResponseError(f"statusCode {status!r} is not an HTTP status")
    if not isinstance(headers, dict) or not isinstance(cookies, list):
        raise InvalidFunctionResponseError("headers must be an object and cookies a list")
    if body is not None and not isinstance(body, str):
        raise InvalidFunctionResponseError("body must be a string")

    content = (body or "").encode()
    if result.get("isBase64Encoded") and body:
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise InvalidFunctionResponseError("body is not valid base64") from None

    response = Response(content, status=status)
    response.headers.pop("Content-Type", None)
    for name, value in headers.items():
        response.headers[name] = str(value)
    for cookie in cookies:
        response.headers.add("Set-Cookie", str(cookie))
    return response


def _request_id() -> str:
    # API Gateway's request ids are 16 base64 characters, such as `JKJaXmPLvHcESHA=`.
    return base64.b64encode(os.urandom(11)).decode("ascii")


def _trace_id(now: datetime) -> str:
    return f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}"
