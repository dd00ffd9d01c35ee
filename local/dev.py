"""`make dev`: the whole service on this machine, with no AWS account and no Docker.

    python -m local.dev [--host 127.0.0.1] [--api-port 3000] [--lambda-port 3001]
                        [--aws-port 5000] [--sandbox-port 3002]
                        [--parameter-overrides Key=Value ...]

Ports mirror `sam local`: the HTTP API (`start-api`), the Lambda Invoke API
(`start-lambda`), moto's AWS and the provider sandbox. Functions, tables, keys, queues and
environment come from `template.yaml`. Ctrl-C or SIGTERM stops everything and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from werkzeug.serving import WSGIRequestHandler

from local.aws import create_resources, start_moto
from local.banner import StackUrls, print_banner
from local.event_sources import EventSources, read_event_sources
from local.functions import FunctionRuntime, read_functions
from local.http_api import HttpApiGateway
from local.http_routes import HttpApi, read_http_apis
from local.lambda_api import LambdaInvokeApi
from local.sandbox import DEMO_KEYS, create_app
from local.servers import PortInUseError, RunningServer, bind_socket, start_server
from local.template import Template, TemplateError, parse_parameter_overrides
from local.tokens import LOCAL_JWT_ISSUER

logger = logging.getLogger("local.dev")

REPOSITORY = Path(__file__).resolve().parent.parent
READY_LINE = "local stack ready"
"""Printed once every server listens; tests wait for this line."""


@dataclass
class LocalStack:
    """The running servers and pollers, stopped in reverse order of starting."""

    template: Template
    apis: list[HttpApi]
    runtime: FunctionRuntime
    urls: StackUrls
    servers: dict[str, RunningServer] = field(default_factory=dict)
    event_sources: EventSources | None = None

    def stop(self) -> None:
        if self.event_sources is not None:
            self.event_sources.stop()
        for name, server in reversed(self.servers.items()):
            server.stop()
            logger.info("stopped %s", name)


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.dev",
        description="Run the service locally: HTTP API, Lambda Invoke API, moto and the "
        "provider sandbox, all from template.yaml.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address every server listens on (default 127.0.0.1, this machine only)",
    )
    parser.add_argument("--api-port", type=int, default=3000, help="HTTP API port (3000)")
    parser.add_argument(
        "--lambda-port", type=int, default=3001, help="Lambda Invoke API port (3001)"
    )
    parser.add_argument("--aws-port", type=int, default=5000, help="moto's AWS port (5000)")
    parser.add_argument(
        "--sandbox-port", type=int, default=3002, help="provider sandbox port (3002)"
    )
    parser.add_argument(
        "--template",
        type=Path,
        default=REPOSITORY / "template.yaml",
        help="SAM template to run (default: the repository's template.yaml)",
    )
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="template parameters, like `sam --parameter-overrides`; by default the provider "
        "base URLs point at the sandbox and JwtIssuer is the local issuer",
    )
    return parser.parse_args(argv)


def connect_host(host: str) -> str:
    """Return the address clients use to reach a server listening on `host`."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def url(host: str, port: int) -> str:
    host = connect_host(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def local_parameter_overrides(sandbox_url: str, overrides: Sequence[str]) -> dict[str, str]:
    """Point the providers at the sandbox and trust local tokens, unless `overrides` set them."""
    return {
        "OpenRouterBaseUrl": f"{sandbox_url}/openrouter/api/v1",
        "OpenAiBaseUrl": f"{sandbox_url}/openai/v1",
        "JwtIssuer": LOCAL_JWT_ISSUER,
        **parse_parameter_overrides(overrides),
    }


@dataclass
class _Listeners:
    """The four bound sockets, in the order the servers use them."""

    api: socket.socket
    lambda_invoke: socket.socket
    aws: socket.socket
    sandbox: socket.socket

    def urls(self, host: str) -> StackUrls:
        return StackUrls(
            api=url(host, self.api.getsockname()[1]),
            lambda_invoke=url(host, self.lambda_invoke.getsockname()[1]),
            aws=url(host, self.aws.getsockname()[1]),
            sandbox=url(host, self.sandbox.getsockname()[1]),
        )

    def close(self) -> None:
        for listener in (self.api, self.lambda_invoke, self.aws, self.sandbox):
            listener.close()


def bind_ports(arguments: argparse.Namespace) -> _Listeners:
    """Bind all four ports, or raise `PortInUseError` for the first one taken."""
    bound: list[socket.socket] = []
    try:
        for purpose, port in (
            ("HTTP API (--api-port)", arguments.api_port),
            ("Lambda Invoke API (--lambda-port)", arguments.lambda_port),
            ("AWS emulation, moto (--aws-port)", arguments.aws_port),
            ("provider sandbox (--sandbox-port)", arguments.sandbox_port),
        ):
            bound.append(bind_socket(arguments.host, port, purpose))
    except PortInUseError:
        for listener in bound:
            listener.close()
        raise
    return _Listeners(*bound)


def start_stack(arguments: argparse.Namespace) -> LocalStack:
    """Bind every port, create the AWS resources, load the functions and start serving.

    Raises
    ------
    PortInUseError
        A port is taken; nothing was started.
    TemplateError
        The template or a parameter override is invalid; whatever started is stopped.
    """
    # Every port is bound first, so a port in use fails the start before any work.
    listeners = bind_ports(arguments)
    urls = listeners.urls(arguments.host)
    servers: dict[str, RunningServer] = {}
    try:
        overrides = local_parameter_overrides(urls.sandbox, arguments.parameter_overrides)
        template = Template.from_file(arguments.template, parameter_overrides=overrides)
        pseudo = template.pseudo

        servers["AWS (moto)"] = start_moto(listeners.aws)
        create_resources(template, urls.aws)

        # werkzeug's standard handler logs the sandbox's request lines; keys travel only in
        # headers and bodies, which it does not log.
        servers["provider sandbox"] = start_server(
            "provider sandbox",
            listeners.sandbox,
            create_app(preload_demo_keys=True),
            request_handler=WSGIRequestHandler,
        )

        # Functions are read after the resources exist: their environment refers to them.
        functions = read_functions(template)
        apis = read_http_apis(template, functions)
        runtime = FunctionRuntime(functions, aws_endpoint_url=urls.aws, region=pseudo.region)
        runtime.load_all()

        gateway = HttpApiGateway(apis, runtime, account_id=pseudo.account_id)
        servers["HTTP API"] = start_server("HTTP API", listeners.api, gateway)
        function_arn_prefix = (
            f"arn:{pseudo.partition}:lambda:{pseudo.region}:{pseudo.account_id}:function:"
        )
        invoke_api = LambdaInvokeApi(runtime, function_arn_prefix=function_arn_prefix)
        servers["Lambda Invoke API"] = start_server(
            "Lambda Invoke API", listeners.lambda_invoke, invoke_api
        )

        event_sources = EventSources(
            read_event_sources(template, functions),
            runtime=runtime,
            template=template,
            aws_endpoint_url=urls.aws,
        )
        event_sources.start()
    except BaseException:
        for server in reversed(servers.values()):
            server.stop()
        listeners.close()
        raise

    return LocalStack(template, apis, runtime, urls, servers, event_sources)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if not arguments.template.is_file():
        print(
            f"error: template {arguments.template} not found; pass --template PATH",
            file=sys.stderr,
        )
        return 1

    # Libraries log at WARNING, Python's default root level. The local stack's own lines and
    # the sandbox's request lines (werkzeug) are logged at INFO.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("local").setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    # Tests read the output through a pipe, where Python would buffer it.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)

    stopping = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        logger.info("stopping (%s)", signal.Signals(signal_number).name)
        stopping.set()
        # A second Ctrl-C while stopping ends the process at once.
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    if connect_host(arguments.host) not in ("127.0.0.1", "::1", "localhost"):
        logger.warning(
            "listening on %s: other machines can reach the local stack, and its tokens are "
            "signed with a published secret",
            arguments.host,
        )

    started = time.monotonic()
    try:
        stack = start_stack(arguments)
    except PortInUseError as error:
        print(
            f"error: {error}; stop the program that uses it or choose another port",
            file=sys.stderr,
        )
        return 1
    except TemplateError as error:
        print(f"error: {arguments.template}: {error}", file=sys.stderr)
        return 1

    if stopping.is_set():  # Ctrl-C during the start
        stack.stop()
        return 0

    print_banner(
        stack.urls,
        template_directory=stack.template.directory,
        apis=stack.apis,
        functions=stack.runtime.functions,
        event_sources=stack.event_sources,
        demo_keys=DEMO_KEYS,
    )
    logger.info("started in %.1f s", time.monotonic() - started)
    print(READY_LINE, flush=True)

    while not stopping.wait(timeout=1):
        pass
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
