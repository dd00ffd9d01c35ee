"""Stand-in for OpenAI's API (`/v1`): model list and embeddings.

Bodies, status codes and error texts follow what OpenAI returns. Quota shows only on the
billable embeddings route, as with OpenAI.
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from local.sandbox.accounts import Account, AccountStore
from local.sandbox.web import bearer_key, find_account, json_object, json_response

PREFIX = "/openai/v1"

# Cost of one short embedding in the sandbox, in USD.
EMBEDDING_COST_USD = 0.000001

# Key prefixes that OpenAI keeps visible when it masks a key in an error message.
MASK_PREFIXES = ("sk-svcacct-", "sk-admin-", "sk-proj-", "sk-")

MODELS = ("text-embedding-3-small", "text-embedding-3-large", "gpt-4o-realtime-preview")

NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
    "(with blank username) if you're accessing the API from your browser and are prompted for "
    "a username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)


def error(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> Response:
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return json_response(body, status)


def masked_key(key: str) -> str:
    """Return the key as OpenAI shows it in a 401: known prefix, asterisks, last four."""
    prefix = next((p for p in MASK_PREFIXES if key.startswith(p)), "")
    if len(key) <= len(prefix) + 4:
        return prefix + "*" * (len(key) - len(prefix))
    return prefix + "*" * (len(key) - len(prefix) - 4) + key[-4:]


def missing_scopes(scope: str) -> Response:
    """Return the 403 that a restricted key gets for a route outside its permissions."""
    return error(
        403,
        f"You have insufficient permissions for this operation. Missing scopes: {scope}. "
        "Check that you have the correct role in your organization (Reader, Writer, Owner) "
        "and project (Member, Owner), and if you're using a restricted API key, that it has "
        "the necessary scopes.",
    )


def authenticate(request: Request, store: AccountStore) -> Account | Response:
    """Return the caller's account, or the 401 that OpenAI sends instead."""
    key = bearer_key(request)
    if key is None:
        return error(401, NO_KEY_MESSAGE)
    account = find_account(store, "openai", key)
    if account is None:
        return error(
            401,
            f"Incorrect API key provided: {masked_key(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    return account


def get_models(request: Request, store: AccountStore) -> Response:
    account = authenticate(request, store)
    if isinstance(account, Response):
        return account
    if not account.behaviour.models_readable:
        return missing_scopes("api.model.read")

    data = [
        {"id": model, "object": "model", "created": 1705948997, "owned_by": "system"}
        for model in MODELS
    ]
    return json_response({"object": "list", "data": data})


def post_embeddings(request: Request, store: AccountStore) -> Response:
    account = authenticate(request, store)
    if isinstance(account, Response):
        return account
    if not account.behaviour.embeddings:
        return missing_scopes("model.request")

    body = json_object(request)
    if body is None:
        return error(400, "We could not parse the JSON body of your request.")
    model = body.get("model")
    text = body.get("input")
    if not isinstance(model, str) or not model:
        return error(400, "you must provide a model parameter", param="model")
    if not isinstance(text, str | list) or not text:
        return error(400, "'input' is a required property", param="input")

    if not store.charge(account, EMBEDDING_COST_USD):
        return error(
            429,
            "You exceeded your current quota, please check your plan and billing details. "
            "For more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors.",
            error_type="insufficient_quota",
            code="insufficient_quota",
        )

    return json_response(
        {
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.0023, -0.0091, 0.0154]}],
            "model": model,
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
    )


Handler = Callable[[Request, AccountStore], Response]

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", f"{PREFIX}/models"): get_models,
    ("POST", f"{PREFIX}/embeddings"): post_embeddings,
}
