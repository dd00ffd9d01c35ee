"""HTTP API events for the API function, built from the samples in `events/api/`."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "events"

ADMIN_CLAIMS = {
    "sub": "user_42",
    "org_id": "org_123",
    "org_plan": "enterprise",
    "org_role": "admin",
}


@cache
def sample_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / "api" / f"{name}.json").read_text())
    return event


def http_api_event(
    method: str,
    path: str,
    *,
    claims: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """Build an HTTP API (payload 2.0) event as API Gateway sends it after the JWT authorizer.

    `claims=None` gives the admin of an enterprise org; `body` is sent as JSON, `raw_body`
    as it is.
    """
    event = copy.deepcopy(sample_event("list_providers"))
    route = re.sub(r"/providers/[^/]+", "/providers/{provider}", path)
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {route}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["authorizer"]["jwt"]["claims"] = dict(
        ADMIN_CLAIMS if claims is None else claims
    )
    if path.startswith("/providers/"):
        event["pathParameters"] = {"provider": path.split("/")[2]}
    if body is not None:
        raw_body = json.dumps(body)
    if raw_body is not None:
        event["headers"]["content-type"] = content_type
        event["body"] = raw_body
    return event
