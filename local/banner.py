"""The guide `make dev` prints at start: URLs, routes, tokens, demo keys and sample requests.

The demo keys are fake keys that only the sandbox accepts, printed because a developer
pastes them into the dashboard or into the sample requests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from local.event_sources import EventSources
from local.functions import FunctionSpec
from local.http_routes import HttpApi, JwtAuthorizer
from local.sandbox import DemoKey
from local.tokens import DEFAULT_EXPIRES_IN, make_token

DEMO_ORG = "org_demo"


@dataclass(frozen=True)
class StackUrls:
    """URLs of the local stack's four servers."""

    api: str
    lambda_invoke: str
    aws: str
    sandbox: str


def print_banner(
    urls: StackUrls,
    *,
    template_directory: Path,
    apis: Sequence[HttpApi],
    functions: Mapping[str, FunctionSpec],
    event_sources: EventSources | None,
    demo_keys: Sequence[DemoKey],
    out: TextIO = sys.stdout,
) -> None:
    """Print how to reach and try the local stack."""
    line = _Printer(out)
    line()
    line("External providers, local stack")
    line(f"  HTTP API           {urls.api}   (like `sam local start-api`)")
    line(
        f"  Lambda Invoke API  {urls.lambda_invoke}   "
        f'(boto3.client("lambda", endpoint_url="{urls.lambda_invoke}"))'
    )
    line(f"  AWS (moto)         {urls.aws}   (the functions' AWS_ENDPOINT_URL)")
    line(f"  Provider sandbox   {urls.sandbox}   (/openrouter/api/v1, /openai/v1)")

    line("  Code changes take effect after a restart (Ctrl-C, then make dev again).")

    line()
    line("Functions (invoke by logical id):")
    for logical_id, spec in functions.items():
        code_dir = os.path.relpath(spec.code_dir, template_directory)
        line(f"  {logical_id:<24} {code_dir}/{spec.handler}")

    routes = [route for api in apis for route in api.routes]
    if routes:
        line()
        line("HTTP API routes:")
        for route in routes:
            auth = "JWT" if route.authorizer else "no token"
            line(f"  {route.route_key:<40} {route.function:<24} {auth}")

    sources = event_sources.settings if event_sources is not None else None
    if sources is not None and (sources.queues or sources.rules or sources.schedules):
        line()
        line("Event sources:")
        for subscription in sources.queues:
            queue = subscription.queue_arn.rsplit(":", 1)[-1]
            line(f"  SQS queue {queue} -> {subscription.function}")
        for rule in sources.rules:
            line(f"  EventBridge bus {rule.bus_name}, rule {rule.rule_name} -> {rule.function}")
        for schedule in sources.schedules:
            line(f"  {schedule.expression} -> {schedule.function}")

    authorizer = next((route.authorizer for route in routes if route.authorizer), None)
    if authorizer is not None:
        _print_tokens(line, authorizer)
    _print_demo_keys(line, demo_keys)
    if authorizer is not None:
        _print_sample_requests(line, urls.api, demo_keys)
    line()


def _print_tokens(line: _Printer, authorizer: JwtAuthorizer) -> None:
    audience = authorizer.audiences[0] if authorizer.audiences else ""

    def token(sub: str, org_id: str, plan: str, role: str) -> str:
        return make_token(sub, org_id, plan, role, issuer=authorizer.issuer, audience=audience)

    hours = DEFAULT_EXPIRES_IN // 3600
    line()
    line(f"Tokens (HS256, iss {authorizer.issuer}, aud {audience}, valid {hours} h):")
    line(f"  # {DEMO_ORG}, enterprise plan, owner: may read and change providers")
    line(f"  export TOKEN={token('user_demo_owner', DEMO_ORG, 'enterprise', 'owner')}")
    line(f"  # {DEMO_ORG}, enterprise plan, member: may only read")
    line(f"  export MEMBER_TOKEN={token('user_demo_member', DEMO_ORG, 'enterprise', 'member')}")
    line("  # org_starter, starter plan, owner: changes get enterprise_plan_required")
    line(f"  export STARTER_TOKEN={token('user_starter_owner', 'org_starter', 'starter', 'owner')}")


def _print_demo_keys(line: _Printer, demo_keys: Sequence[DemoKey]) -> None:
    width = max((len(demo.name) for demo in demo_keys), default=0)
    line()
    line("Demo keys (fake; only the sandbox accepts them):")
    line(f"  {'name':<{width}}  {'provider':<10}  what it shows")
    for demo in demo_keys:
        line(f"  {demo.name:<{width}}  {demo.provider:<10}  {demo.description}")
        line(f"  {'':<{width}}  {'':<10}  {demo.key}")


def _print_sample_requests(line: _Printer, api_url: str, demo_keys: Sequence[DemoKey]) -> None:
    funded = next(
        (demo for demo in demo_keys if demo.name == "openrouter-funded"),
        next((demo for demo in demo_keys if demo.provider == "openrouter"), None),
    )
    auth = '-H "Authorization: Bearer $TOKEN"'
    json_body = '-H "Content-Type: application/json"'

    line()
    line("Try it:")
    line("  # list both providers")
    line(f"  curl -s {api_url}/providers {auth}")

    if funded is not None:
        line(f"  # save the funded OpenRouter demo key ({funded.name}) and switch it on")
        line(f"  export OPENROUTER_KEY={funded.key}")
        line(
            f"  curl -s -X PUT {api_url}/providers/openrouter {auth} {json_body} "
            '-d "{\\"api_key\\": \\"$OPENROUTER_KEY\\", \\"enabled\\": true}"'
        )

    line("  # switch it off (the key stays stored)")
    line(
        f"  curl -s -X PUT {api_url}/providers/openrouter {auth} {json_body} "
        "-d '{\"enabled\": false}'"
    )
    line("  # validate the stored key again")
    line(f"  curl -s -X POST {api_url}/providers/openrouter/validate {auth}")
    line("  # delete the key (204)")
    line(
        f"  curl -s -o /dev/null -w '%{{http_code}}\\n' -X DELETE "
        f"{api_url}/providers/openrouter {auth}"
    )
    line("  # the OpenAPI document needs no token")
    line(f"  curl -s {api_url}/openapi.json")


class _Printer:
    """Callable that prints one line of the guide per call."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def __call__(self, text: str = "") -> None:
        print(text, file=self._out)
