"""The template's HTTP APIs as API Gateway builds them: routes, JWT authorizers and CORS."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from local.functions import FunctionSpec
from local.template import Template, TemplateError

logger = logging.getLogger(__name__)

HTTP_API_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_API_ID = "ServerlessHttpApi"
"""Logical id of the HTTP API that SAM creates for `HttpApi` events without an `ApiId`."""

ANY_METHOD = "ANY"
DEFAULT_ROUTE = "$default"


@dataclass(frozen=True)
class JwtAuthorizer:
    """A JWT authorizer: where the token is and which issuer and audiences it must have."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    header: str
    """Lowercase request header that contains the token (`$request.header.Authorization`)."""


@dataclass(frozen=True)
class CorsConfiguration:
    """An HTTP API's CORS settings, which API Gateway uses to respond to preflight requests."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.allow_origins or origin in self.allow_origins


@dataclass(frozen=True)
class Route:
    """One route of an HTTP API and the function it invokes."""

    api_logical_id: str
    api_id: str
    function: str
    """Logical id of the function."""
    method: str
    """An HTTP method in upper case, or `ANY`."""
    path: str
    """A path such as `/providers/{provider}` or `/files/{proxy+}`, or `$default`."""
    authorizer: JwtAuthorizer | None
    unsupported_authorizer: str | None
    """Name of an authorizer the local stack cannot run (a Lambda authorizer), if any."""
    scopes: tuple[str, ...]

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"

    @property
    def specificity(self) -> tuple[int, ...]:
        """Sort key: literal segments before `{name}`, and `{name}` before `{proxy+}`."""
        if self.path == DEFAULT_ROUTE:
            return (3,)
        ranks = []
        for segment in self.path.strip("/").split("/"):
            if segment.endswith("+}"):
                ranks.append(2)
            elif segment.startswith("{"):
                ranks.append(1)
            else:
                ranks.append(0)
        return (*ranks, 1 if self.method == ANY_METHOD else 0)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Return the path parameters if the route matches, or None."""
        if self.method not in (method, ANY_METHOD) or self.path == DEFAULT_ROUTE:
            return None
        found = _path_pattern(self.path).fullmatch(path)
        return None if found is None else found.groupdict()

    def matches_path(self, path: str) -> bool:
        return self.path != DEFAULT_ROUTE and _path_pattern(self.path).fullmatch(path) is not None


@dataclass(frozen=True)
class HttpApi:
    """One HTTP API of the template with its routes."""

    logical_id: str
    api_id: str
    cors: CorsConfiguration | None
    routes: tuple[Route, ...]


def _path_pattern(path: str) -> re.Pattern[str]:
    parts = []
    for segment in path.split("/"):
        variable = re.fullmatch(r"\{([A-Za-z0-9_.-]+?)(\+?)\}", segment)
        if variable is None:
            parts.append(re.escape(segment))
        elif variable.group(2):
            parts.append(f"(?P<{_group_name(variable.group(1))}>.+)")
        else:
            parts.append(f"(?P<{_group_name(variable.group(1))}>[^/]+)")
    return re.compile("/".join(parts))


def _group_name(name: str) -> str:
    if not name.isidentifier():
        raise TemplateError(f"path parameter {{{name}}} is not supported by the local HTTP API")
    return name


def read_http_apis(template: Template, functions: Mapping[str, FunctionSpec]) -> list[HttpApi]:
    """Collect the HTTP APIs and the routes that functions' `HttpApi` events add to them."""
    routes_by_api: dict[str, list[Route]] = {}
    api_properties: dict[str, dict[str, Any]] = {}

    for logical_id, _ in template.resources_of_type(HTTP_API_TYPE):
        api_properties[logical_id] = template.properties(logical_id)
        routes_by_api[logical_id] = []

    for function in functions.values():
        for event_name, event in function.events.items():
            if event.get("Type") != "HttpApi":
                continue
            properties = event.get("Properties") or {}
            api_logical_id = _api_logical_id(properties.get("ApiId"), function, event_name)
            if api_logical_id not in api_properties:
                # SAM's implicit API takes its settings from Globals.HttpApi.
                api_properties[api_logical_id] = template.global_properties("HttpApi")
                routes_by_api[api_logical_id] = []
            route = _route(
                template,
                api_logical_id,
                api_properties[api_logical_id],
                function,
                event_name,
                properties,
            )
            routes_by_api[api_logical_id].append(route)

    return [
        HttpApi(
            logical_id=api_logical_id,
            api_id=_api_id(template, api_logical_id),
            cors=_cors(template.resolve(api_properties[api_logical_id].get("CorsConfiguration"))),
            routes=tuple(routes),
        )
        for api_logical_id, routes in routes_by_api.items()
    ]


def _api_logical_id(api_id: Any, function: FunctionSpec, event_name: str) -> str:
    if api_id is None:
        return IMPLICIT_API_ID
    if isinstance(api_id, dict) and isinstance(api_id.get("Ref"), str):
        return str(api_id["Ref"])
    raise TemplateError(
        f"event {event_name} of {function.logical_id}: ApiId must be a !Ref to an "
        "AWS::Serverless::HttpApi of the template"
    )


def _api_id(template: Template, api_logical_id: str) -> str:
    if api_logical_id in template.resources:
        return str(template.ref(api_logical_id))
    return api_logical_id.lower()


def _route(
    template: Template,
    api_logical_id: str,
    api_properties: Mapping[str, Any],
    function: FunctionSpec,
    event_name: str,
    properties: Mapping[str, Any],
) -> Route:
    where = f"event {event_name} of {function.logical_id}"
    payload_format = str(template.resolve(properties.get("PayloadFormatVersion", "2.0")))
    if payload_format != "2.0":
        raise TemplateError(
            f"{where}: the local HTTP API sends only payload format 2.0, not {payload_format}"
        )

    # Without Path and Method, SAM makes the event the API's `$default` route.
    path = str(template.resolve(properties.get("Path", DEFAULT_ROUTE)))
    method = str(template.resolve(properties.get("Method", ANY_METHOD))).upper()
    if method in ("X-AMAZON-APIGATEWAY-ANY-METHOD", "*"):
        method = ANY_METHOD

    auth = template.resolve(api_properties.get("Auth") or {})
    route_auth = template.resolve(properties.get("Auth") or {})
    authorizer_name = route_auth.get("Authorizer", auth.get("DefaultAuthorizer"))
    authorizer, unsupported = None, None
    if authorizer_name not in (None, "NONE"):
        declared = (auth.get("Authorizers") or {}).get(authorizer_name)
        if declared is None:
            raise TemplateError(f"{where}: authorizer {authorizer_name} is not declared")
        authorizer = _jwt_authorizer(authorizer_name, declared)
        if authorizer is None:
            logger.warning(
                "authorizer %s of %s is not a JWT authorizer; the local HTTP API returns 500 "
                "on its routes",
                authorizer_name,
                api_logical_id,
            )
            unsupported = authorizer_name

    return Route(
        api_logical_id=api_logical_id,
        api_id=_api_id(template, api_logical_id),
        function=function.logical_id,
        method=method,
        path=path,
        authorizer=authorizer,
        unsupported_authorizer=unsupported,
        scopes=tuple(route_auth.get("AuthorizationScopes") or ()),
    )


def _jwt_authorizer(name: str, declared: Mapping[str, Any]) -> JwtAuthorizer | None:
    configuration = declared.get("JwtConfiguration")
    identity_source = str(declared.get("IdentitySource", "$request.header.Authorization"))
    header = re.fullmatch(r"\$request\.header\.([A-Za-z0-9_-]+)", identity_source)
    if configuration is None or header is None:
        return None

    # SAM writes `issuer` and `audience`; CloudFormation's own resource capitalizes them.
    issuer = configuration.get("issuer", configuration.get("Issuer"))
    audience = configuration.get("audience", configuration.get("Audience")) or []
    audiences = (audience,) if isinstance(audience, str) else tuple(audience)
    return JwtAuthorizer(
        name=name, issuer=str(issuer), audiences=audiences, header=header.group(1).lower()
    )


def _cors(configuration: Any) -> CorsConfiguration | None:
    if configuration is None or configuration is False:
        return None
    if configuration is True:
        # SAM's shorthand: any origin, method and header.
        return CorsConfiguration(("*",), ("*",), ("*",), (), None, False)

    def strings(name: str) -> tuple[str, ...]:
        value = configuration.get(name) or ()
        return (value,) if isinstance(value, str) else tuple(str(item) for item in value)

    max_age = configuration.get("MaxAge")
    return CorsConfiguration(
        allow_origins=strings("AllowOrigins"),
        allow_methods=tuple(method.upper() for method in strings("AllowMethods")),
        allow_headers=tuple(header.lower() for header in strings("AllowHeaders")),
        expose_headers=strings("ExposeHeaders"),
        max_age=None if max_age is None else int(max_age),
        allow_credentials=configuration.get("AllowCredentials") in (True, "true"),
    )
