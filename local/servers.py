"""Threaded WSGI servers for the local stack, each bound before it starts serving.

The socket is bound here rather than by werkzeug, because werkzeug's server prints a
message and calls `sys.exit(1)` when a port is taken. The local stack reports which of its
ports is taken instead.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

logger = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.1
"""How often a server checks for shutdown; werkzeug's default of 0.5 s slows Ctrl-C."""


class PortInUseError(Exception):
    """A port of the local stack is taken by another program."""


class QuietRequestHandler(WSGIRequestHandler):
    """A request handler without werkzeug's access log line, which shows the query string.

    The HTTP API writes its own access log; errors are still logged.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def bind_socket(host: str, port: int, purpose: str) -> socket.socket:
    """Bind and listen on a TCP port, or raise `PortInUseError` naming the port and its use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    # Same option as werkzeug's server: a port in TIME_WAIT after a restart is free.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise PortInUseError(
            f"cannot listen on {host}:{port} for the {purpose}: {error.strerror}"
        ) from None
    return listener


@dataclass
class RunningServer:
    """A WSGI server serving on its own daemon thread."""

    name: str
    server: BaseWSGIServer
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_SECONDS},
            name=self.name,
            daemon=True,
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        host = self.server.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def stop(self) -> None:
        """Stop accepting requests and wait for the serving thread to end."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_server(
    name: str,
    listener: socket.socket,
    app: WSGIApplication,
    *,
    request_handler: type[WSGIRequestHandler] = QuietRequestHandler,
) -> RunningServer:
    """Serve a WSGI app on an already bound socket, one thread per request."""
    host, port = listener.getsockname()[:2]
    server = make_server(
        host, port, app, threaded=True, request_handler=request_handler, fd=listener.fileno()
    )
    # werkzeug duplicated the descriptor; the server now owns its own copy.
    listener.close()
    logger.debug("%s listening on %s", name, f"{host}:{port}")
    return RunningServer(name, server)
