"""Local stand-ins for the real services, speaking their wire protocols on 127.0.0.1.

Each fake is a `FakeServer`: start()/stop() or a context manager, `url`, a request log
(`requests`: method, path, query, headers, body size) and scripted failures queued with
`fail_next(status, ...)` (the service's own error body) or `drop_next()` (the connection is
reset with no answer). The real client libraries are pointed at `url`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    form: dict[str, Any] = field(default_factory=dict)  # parsed multipart fields
    received: float = field(default_factory=time.monotonic)

    @property
    def body_size(self) -> int:
        return len(self.body)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # reset the connection instead of answering
    delay: float = 0.0  # seconds to wait before answering
    cut_at: int | None = None  # send the full Content-Length, then only this many bytes, reset

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, dict | list):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        elif isinstance(body, str):
            body = body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        return body or b"", headers


@dataclass
class _Scripted:
    reply: Reply
    path_contains: str | None
    method: str | None


class FakeServer:
    """Base class: subclasses implement `route(request) -> Reply` and `error(status, ...)`."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._scripted: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pace: list[tuple[str, float]] = []
        self._gate: _Gate | None = None
        self.in_flight = self.most_in_flight = 0  # requests being answered at once
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeServer:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close the kept-alive connections too: a client's pool must not
        reach this fake's handlers after another fake took its port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ scripting

    def fail_next(
        self,
        status: int,
        reason: str | None = None,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next matching request(s) with the service's error body for `status`."""
        reply = self.error(status, reason, message)
        reply.headers.update(headers or {})
        self.script(reply, times=times, path_contains=path_contains, method=method)

    def drop_next(
        self, *, times: int = 1, path_contains: str | None = None, method: str | None = None
    ) -> None:
        """Reset the connection of the next matching request(s) without answering."""
        self.script(Reply(drop=True), times=times, path_contains=path_contains, method=method)

    def script(
        self,
        reply: Reply,
        *,
        times: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        with self._lock:
            for _ in range(times):
                self._scripted.append(_Scripted(reply, path_contains, method))

    def _take_scripted(self, request: Request) -> Reply | None:
        with self._lock:
            for item in list(self._scripted):
                if item.path_contains and item.path_contains not in request.path:
                    continue
                if item.method and item.method != request.method:
                    continue
                self._scripted.remove(item)
                return item.reply
        return None

    # ------------------------------------------------------------ to override

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def error(self, status: int, reason: str | None = None, message: str | None = None) -> Reply:
        return Reply(status, {"error": message or reason or "error"})

    # ------------------------------------------------------------ log helpers

    def requests_to(self, path_part: str, method: str | None = None) -> list[Request]:
        return [
            r
            for r in list(self.requests)
            if path_part in r.path and (method is None or r.method == method)
        ]

    def slow(self, seconds: float, *, path_contains: str = "") -> None:
        """Take `seconds` over every matching request (a provider at work)."""
        self._pace.append((path_contains, seconds))

    def hold_after(self, served: int, *, path_contains: str = "") -> None:
        """Let `served` matching requests through, then hold the next ones at the door.

        A held request is neither logged nor served: it stands for a call in flight when the
        caller died, which the provider never completed (nor billed). `release()` drops them.
        """
        self._gate = _Gate(path_contains, served)

    @property
    def held(self) -> int:
        return self._gate.waiting if self._gate else 0

    def release(self) -> None:
        if self._gate:
            self._gate.open.set()

    def dispatch(self, request: Request) -> Reply:
        gate = self._gate
        if gate is not None and gate.path_contains in request.path and gate.stops(self._lock):
            gate.open.wait(timeout=120)
            return Reply(drop=True)
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for part, seconds in self._pace:
                if part in request.path:
                    time.sleep(seconds)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self.requests.append(request)
        return self._take_scripted(request) or self.route(request)


@dataclass
class _Gate:
    path_contains: str
    remaining: int
    waiting: int = 0
    open: threading.Event = field(default_factory=threading.Event)

    def stops(self, lock: threading.Lock) -> bool:
        """Count a request through, or hold it once the allowance is used."""
        with lock:
            if self.remaining > 0:
                self.remaining -= 1
                return False
            self.waiting += 1
            return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(
            method=self.command,
            path=parts.path,
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers=headers,
            body=body,
            form=parse_multipart(headers.get("content-type", ""), body),
        )
        try:
            reply = self.fake.dispatch(request)
        except Exception as exc:  # a bug in a fake must show up as a clear 500
            reply = Reply(500, {"error": f"fake server bug: {exc!r}"})
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            self.reset_connection()
            return
        data, extra = reply.encoded()
        try:
            self.send_response(reply.status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD" and reply.cut_at is not None:
                self.wfile.write(data[: reply.cut_at])
                self.reset_connection()
            elif self.command != "HEAD":
                self.wfile.write(data)
        except OSError:  # the client gave up (its timeout) before the answer
            self.close_connection = True

    def reset_connection(self) -> None:
        """Close with RST (no FIN, no answer), as a dropped network path looks to the client."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        sock: socket.socket = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError, ValueError):
            super().finish()


def parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Fields of a multipart/form-data body: str values, or (filename, bytes, type) for files."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            fields[name] = (filename, payload, part.get_content_type())
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields


def assert_secret_hidden(error: BaseException, *secrets: str) -> None:
    """No secret in the error's str(), repr(), to_info() or message."""
    texts = [str(error), repr(error), getattr(error, "message", "")]
    if hasattr(error, "to_info"):
        texts.append(json.dumps(error.to_info(), default=str, ensure_ascii=False))
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"secret leaked into {text!r}"
