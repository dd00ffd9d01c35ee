"""The sandbox's WSGI application: provider routes, control routes and JSON errors."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local.sandbox import openai_routes, openrouter_routes
from local.sandbox.accounts import AccountStore, KeyBehaviour
from local.sandbox.demo_keys import DEMO_KEYS
from local.sandbox.web import json_object, json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

Handler = openrouter_routes.Handler


def set_key(request: Request, store: AccountStore) -> Response:
    """Set or replace how the sandbox responds to one key. The response never contains the key."""
    body = json_object(request)
    if body is None:
        return control_error(
            "The body must be a JSON object, such as "
            '{"key": "sk-or-v1-...", "provider": "openrouter"}.'
        )
    try:
        behaviour = KeyBehaviour.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(describe_problem(problem) for problem in error.errors())
        fields = ", ".join(KeyBehaviour.model_fields)
        return control_error(f"Invalid key settings: {problems}. The fields are {fields}.")

    store.put(behaviour)
    settings = behaviour.model_dump(exclude={"key", "provider"})
    return json_response({"provider": behaviour.provider, "settings": settings})


def describe_problem(problem: ErrorDetails) -> str:
    """Name the field and the broken rule of one validation error, never the value.

    An unknown field is named unless its name looks like a key pasted in the wrong place.
    """
    field = ".".join(str(part) for part in problem["loc"]) or "body"
    if problem["type"] == "extra_forbidden" and field.startswith("sk-"):
        return "a field named like a key is not a known field"
    if problem["type"] == "extra_forbidden":
        return f"{field} is not a known field"
    return f"{field}: {problem['msg']}"


def reset(request: Request, store: AccountStore) -> Response:
    """Forget every key set through the control route and restore the starting keys."""
    count = store.reset()
    return json_response({"keys": count})


def health(request: Request, store: AccountStore) -> Response:
    return json_response({"status": "ok"})


def control_error(message: str) -> Response:
    return json_response({"error": {"code": "invalid_request", "message": message}}, 400)


CONTROL_ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/_sandbox/keys"): set_key,
    ("POST", "/_sandbox/reset"): reset,
    ("GET", "/_sandbox/health"): health,
}


class SandboxApp:
    """WSGI application that responds as OpenRouter and OpenAI would, from an `AccountStore`."""

    def __init__(self, store: AccountStore) -> None:
        self.store = store
        routes = {**openrouter_routes.ROUTES, **openai_routes.ROUTES, **CONTROL_ROUTES}
        self._handlers: dict[str, Handler] = {}
        rules = []
        for (method, path), handler in routes.items():
            endpoint = f"{method} {path}"
            self._handlers[endpoint] = handler
            rules.append(Rule(path, methods=[method], endpoint=endpoint))
        self._url_map = Map(rules, strict_slashes=False)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self._url_map.bind_to_environ(request.environ)
        try:
            endpoint, _ = adapter.match()
        except HTTPException as error:
            status = error.code or 500
            message = f"{request.method} {request.path} is not a sandbox route ({error.name})."
            return json_response({"error": {"message": message, "code": status}}, status)
        return self._handlers[str(endpoint)](request, self.store)


def create_app(preload_demo_keys: bool = True) -> SandboxApp:
    """Return the sandbox as a WSGI application, with the demo keys preloaded by default.

    `POST /_sandbox/reset` restores the keys the application started with.
    """
    initial = [demo.behaviour() for demo in DEMO_KEYS] if preload_demo_keys else []
    return SandboxApp(AccountStore(initial))
