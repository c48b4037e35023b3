"""The HTTP layer: a threading HTTP/1.1 server with keep-alive, daemon threads and connection faults."""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hubspot_loader.sandbox.handlers import SandboxApp, wait_interruptibly
from hubspot_loader.sandbox.http_types import ABORT_HANG, ABORT_RESET, Request, Response
from hubspot_loader.sandbox.inspection import PREFIX, handle_inspection

IDLE_TIMEOUT_S = 120.0


class SandboxHTTPServer(ThreadingHTTPServer):
    """One thread per connection (daemon threads, so shutdown never waits for hung handlers)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the bound socket."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def track(self, conn: socket.socket, add: bool) -> None:
        """Remember open connections so that :meth:`close_connections` can end them."""
        with self._conn_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive or hung)."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that went away; print anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    """Reads a request fully, dispatches it and writes the response in one send."""

    protocol_version = "HTTP/1.1"
    server_version = "HubSpotSandbox/1.0"
    timeout = IDLE_TIMEOUT_S
    server: SandboxHTTPServer

    def setup(self) -> None:
        """Disable Nagle (responses go out in one write) and track the connection."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        """Untrack the connection."""
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Log only in verbose mode."""
        if self.server.app.config.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        body = self._read_body()
        req = Request.build(self.command, self.path, dict(self.headers.items()), body)
        app = self.server.app
        if req.path == "/" or req.path == "/index.html" or req.path.startswith(PREFIX):
            response = handle_inspection(app, req)
        else:
            response = app.handle(req)
        if response.abort is not None:
            self._abort(response)
            return
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.payload()
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        if payload or response.status not in (204, 304):
            lines.append(f"Content-Type: {response.content_type}")
        lines.append(f"Content-Length: {len(payload)}")
        lines.extend(f"{k}: {v}" for k, v in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + payload)
        self.log_request(response.status, len(payload))

    def _abort(self, response: Response) -> None:
        """End the connection without an answer (reset, drop after commit, or hang then drop)."""
        self.close_connection = True
        if response.abort == ABORT_HANG:
            wait_interruptibly(self.server.app.shutdown_event, response.hang_seconds)
        try:
            if response.abort == ABORT_RESET:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
