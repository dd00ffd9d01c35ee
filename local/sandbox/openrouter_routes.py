"""Stand-in for OpenRouter's API (`/api/v1`): key details, credits, chat completions, models.

Bodies, status codes and error texts follow what OpenRouter returns; amounts are in USD.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from werkzeug.wrappers import Request, Response

from local.sandbox.accounts import Account, AccountStore
from local.sandbox.web import bearer_key, find_account, json_object, json_response

PREFIX = "/openrouter/api/v1"

# Cost of one minimal chat completion in the sandbox, in USD.
COMPLETION_COST_USD = 0.00001

MODELS = (
    {"id": "openai/gpt-4o-mini", "name": "OpenAI: GPT-4o-mini", "context_length": 128000},
    {"id": "anthropic/claude-3.5-haiku", "name": "Anthropic: Claude 3.5 Haiku"},
    {"id": "meta-llama/llama-3.3-70b-instruct:free", "name": "Meta: Llama 3.3 70B (free)"},
)


def error(status: int, message: str) -> Response:
    return json_response({"error": {"message": message, "code": status}}, status)


def authenticate(request: Request, store: AccountStore) -> Account | Response:
    """Return the caller's account, or the 401 that OpenRouter sends instead."""
    key = bearer_key(request)
    if key is None:
        return error(401, "No auth credentials found")
    account = find_account(store, "openrouter", key)
    if account is None:
        return error(401, "User not found.")
    return account


def key_label(key: str) -> str:
    """Return the shortened key that OpenRouter shows as a key's default label."""
    return f"{key[:11]}...{key[-3:]}"


def get_key(request: Request, store: AccountStore) -> Response:
    account = authenticate(request, store)
    if isinstance(account, Response):
        return account

    behaviour = account.behaviour
    usage = round(account.key_usage, 6)
    limit_remaining = account.limit_remaining
    data = {
        "label": key_label(behaviour.key),
        "limit": behaviour.limit,
        "limit_remaining": None if limit_remaining is None else round(limit_remaining, 6),
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": usage,
        "usage_daily": usage,
        "usage_weekly": usage,
        "usage_monthly": usage,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "is_free_tier": behaviour.free_tier,
        "is_management_key": False,
        "is_provisioning_key": False,
        "rate_limit": {"requests": -1, "interval": "10s"},
    }
    return json_response({"data": data})


def get_credits(request: Request, store: AccountStore) -> Response:
    account = authenticate(request, store)
    if isinstance(account, Response):
        return account
    if not account.behaviour.credits_readable:
        return error(403, "Only management keys can perform this operation")

    # A negative balance shows as usage above the credits bought, as OpenRouter reports it.
    total_credits = max(account.balance + account.spent, 0.0)
    total_usage = total_credits - account.balance
    return json_response(
        {"data": {"total_credits": round(total_credits, 6), "total_usage": round(total_usage, 6)}}
    )


def post_chat_completions(request: Request, store: AccountStore) -> Response:
    account = authenticate(request, store)
    if isinstance(account, Response):
        return account

    body = json_object(request)
    if body is None:
        return error(400, "Invalid JSON body")
    model = body.get("model")
    messages = body.get("messages")
    if not isinstance(model, str) or not model:
        return error(400, "No model specified: set 'model' to a model id from /models")
    if not isinstance(messages, list) or not messages:
        return error(400, 'Input required: specify "prompt" or "messages"')

    # Free models cost nothing, but a negative balance gets 402 even there.
    if model.endswith(":free"):
        paid = account.balance >= 0
    else:
        paid = store.charge(account, COMPLETION_COST_USD)
    if not paid:
        return error(
            402, "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
        )

    created = int(time.time())
    return json_response(
        {
            "id": f"gen-{created}-{uuid.uuid4().hex[:20]}",
            "provider": "Sandbox",
            "model": model,
            "object": "chat.completion",
            "created": created,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "native_finish_reason": "length",
                    "message": {"role": "assistant", "content": "Hi"},
                }
            ],
            "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
        }
    )


def get_models(request: Request, store: AccountStore) -> Response:
    """List models. Like OpenRouter's, the route is public and returns 200 to anyone."""
    return json_response({"data": list(MODELS)})


Handler = Callable[[Request, AccountStore], Response]

ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", f"{PREFIX}/key"): get_key,
    ("GET", f"{PREFIX}/credits"): get_credits,
    ("POST", f"{PREFIX}/chat/completions"): post_chat_completions,
    ("GET", f"{PREFIX}/models"): get_models,
}
