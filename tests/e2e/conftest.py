"""The local stack for end-to-end tests: `python -m local.dev` on free ports, once per session.

The stack runs as a subprocess on free ports of its own, so it does not clash with a
`make dev` already running on the default ports. Its output goes to `local_stack.log_path`,
under the session's tmp dir.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.dev import READY_LINE
from local.template import Template
from local.tokens import LOCAL_JWT_ISSUER, make_token
from tests.key_guard import KEY_SHAPE

REPOSITORY = Path(__file__).resolve().parents[2]
E2E_DIRECTORY = Path(__file__).resolve().parent

# The slow demo keys respond after 10 s and the resolver caches for the TTL: short values
# keep the tests that wait for either quick.
PARAMETER_OVERRIDES = {"ProviderTimeoutSeconds": "2", "ResolverConfigTtlSeconds": "1"}

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class LocalStack:
    """URLs of the running local stack, and tokens its HTTP API accepts."""

    api_url: str
    lambda_url: str
    aws_url: str
    sandbox_url: str
    log_path: Path
    issuer: str
    audience: str

    def token(
        self,
        sub: str = "user_e2e",
        org_id: str = "org_e2e",
        org_plan: str = "enterprise",
        org_role: str = "owner",
        *,
        expires_in: int = 3600,
        **claims: Any,
    ) -> str:
        """Sign a dashboard token; `claims` add to or replace the standard claims."""
        return make_token(
            sub,
            org_id,
            org_plan,
            org_role,
            issuer=self.issuer,
            audience=self.audience,
            expires_in=expires_in,
            extra_claims=claims,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/e2e with `e2e`, so `-m "not e2e"` skips the stack."""
    for item in items:
        if item.path.is_relative_to(E2E_DIRECTORY):
            item.add_marker(pytest.mark.e2e)


def free_ports(count: int) -> list[int]:
    """Return ports that are free now; another program could still take one before use."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def redacted(text: str) -> str:
    """Shorten key-shaped strings (the printed demo keys), so a failure report shows none."""
    return KEY_SHAPE.sub(lambda match: match.group()[:8] + "…", text)


def wait_until_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if READY_LINE in output:
            return
        if process.poll() is not None:
            pytest.fail(
                f"the local stack exited with code {process.returncode} before it was ready; "
                f"its output:\n{redacted(output)}"
            )
        time.sleep(0.05)

    output = log_path.read_text(encoding="utf-8", errors="replace")
    pytest.fail(
        f"the local stack did not print {READY_LINE!r} within {START_TIMEOUT_SECONDS} s; "
        f"its output so far:\n{redacted(output)}"
    )


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stop the stack as Ctrl-C would, and kill it if it does not exit in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Start `python -m local.dev` for the session and stop it at the end."""
    log_path = tmp_path_factory.mktemp("local-stack") / "local-stack.log"
    api_port, lambda_port, aws_port, sandbox_port = free_ports(4)
    command = [
        sys.executable,
        "-m",
        "local.dev",
        "--api-port",
        str(api_port),
        "--lambda-port",
        str(lambda_port),
        "--aws-port",
        str(aws_port),
        "--sandbox-port",
        str(sandbox_port),
        "--parameter-overrides",
        *(f"{name}={value}" for name, value in PARAMETER_OVERRIDES.items()),
    ]
    audiences = Template.from_file(REPOSITORY / "template.yaml").parameters["JwtAudience"]

    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            command,
            cwd=REPOSITORY,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_until_ready(process, log_path)
            yield LocalStack(
                api_url=f"http://127.0.0.1:{api_port}",
                lambda_url=f"http://127.0.0.1:{lambda_port}",
                aws_url=f"http://127.0.0.1:{aws_port}",
                sandbox_url=f"http://127.0.0.1:{sandbox_port}",
                log_path=log_path,
                issuer=LOCAL_JWT_ISSUER,
                audience=str(audiences[0]),
            )
        finally:
            exit_code = stop(process)

    assert exit_code == 0, f"the local stack exited with code {exit_code}; see {log_path}"
    assert_no_key_after_start(log_path)


def assert_no_key_after_start(log_path: Path) -> None:
    """Check every line the stack logged while serving: none may show a key.

    The banner before the ready line prints the demo keys on purpose, for a developer to
    paste, so only what follows it is checked.
    """
    output = log_path.read_text(encoding="utf-8", errors="replace")
    served = output.split(READY_LINE, 1)[1]
    leaks = [match[:8] + "…" for match in KEY_SHAPE.findall(served)]
    assert not leaks, f"the local stack logged a key while serving: {leaks}; see {log_path}"
