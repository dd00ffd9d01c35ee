"""Request and response helpers shared by the sandbox's provider routes."""

from __future__ import annotations

import json
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from local.sandbox.accounts import Account, AccountStore, SandboxProvider


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")


def bearer_key(request: Request) -> str | None:
    """Return the key of an `Authorization: Bearer` header, or None when there is none."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return None
    return key


def json_object(request: Request) -> dict[str, Any] | None:
    """Return the request body when it is a JSON object, else None."""
    try:
        body = json.loads(request.get_data())
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def find_account(store: AccountStore, provider: SandboxProvider, key: str) -> Account | None:
    """Return the key's account after its configured latency, or None for an unknown key.

    A key set with `valid: false` is found, delayed, and then treated as unknown.
    """
    account = store.get(provider, key)
    if account is None:
        return None
    if account.behaviour.latency_ms:
        time.sleep(account.behaviour.latency_ms / 1000)
    return account if account.behaviour.valid else None
