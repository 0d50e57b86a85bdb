"""HTTP/1.1 connections of a server worker: httptools parses, each complete request goes to the application, each
response leaves in one write.

A purpose-built protocol rather than a general ASGI server: the inference contract needs a handful of routes and
whole bodies, and an ASGI server's per-request machinery (message dicts, awaitables, header lists) cost more CPU
than decoding a 100-record request. What it keeps from a general server: keep-alive with an idle timeout,
pipelined requests answered in order, ``Expect: 100-continue``, chunked bodies, limits on request heads and
bodies, a graceful stop that lets requests in flight finish.

httptools buffers a header line whole before it hands it over and counts neither header bytes nor headers, so
without limits one request can make a worker hold a header of any size. Here a request whose head (request line and
headers) exceeds ``MAX_HEAD_BYTES``, or which has more than ``MAX_HEADERS`` headers, is answered 431 and its
connection closed. What SageMaker's front end forwards (a few headers, custom attributes up to 1 KB) stays far below.
A body over the payload limit is read and dropped as it arrives, then answered 413 on the same connection.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from http import HTTPStatus
from typing import NamedTuple

import httptools
import orjson

from tabular_xgboost.serving.app import InferenceApplication, Response

LOG = logging.getLogger(__name__)

MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
# A header line's name, value, ": " and CRLF.
_HEADER_FRAMING_BYTES = 4
# Requests parsed ahead of their answers before the connection stops reading: pipelining clients get their
# answers in order while one connection cannot queue unbounded work.
_MAX_QUEUED_REQUESTS = 16
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode() for status in HTTPStatus}


class _Request(NamedTuple):
    method: str
    path: str
    headers: dict[bytes, bytes]
    body: bytes | None
    """None: the body exceeded the payload limit and was dropped."""
    keep_alive: bool


class _HeadTooLarge(Exception):
    pass


class Connections:
    """The open connections of a worker, so that a stop can wait for the requests in flight."""

    def __init__(self) -> None:
        self.open: set[InferenceConnection] = set()
        self._all_closed: asyncio.Event | None = None

    def add(self, connection: InferenceConnection) -> None:
        self.open.add(connection)

    def remove(self, connection: InferenceConnection) -> None:
        self.open.discard(connection)
        if not self.open and self._all_closed is not None:
            self._all_closed.set()

    async def drain(self, timeout: float) -> None:
        """Closes idle connections, lets the others finish their request in flight, closes what is left after
        ``timeout`` seconds."""
        for connection in list(self.open):
            connection.close_when_idle()
        if self.open:
            self._all_closed = asyncio.Event()
            try:
                await asyncio.wait_for(self._all_closed.wait(), timeout)
            except TimeoutError:
                LOG.warning("Closing %d connections whose requests did not finish in %.0f s", len(self.open), timeout)
        for connection in list(self.open):
            connection.abort()


class InferenceConnection(asyncio.Protocol):
    def __init__(self, application: InferenceApplication, connections: Connections, idle_timeout: float) -> None:
        self._application = application
        self._connections = connections
        self._idle_timeout = idle_timeout
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._queue: collections.deque[_Request] = collections.deque()
        self._busy = False  # an answer is being computed in a thread
        self._reading = True
        self._closing = False
        self._draining = False  # the worker is stopping: answer what has arrived, then close
        self._in_request = False  # between the first byte of a request and its end
        # The request being parsed.
        self._url = b""
        self._headers: dict[bytes, bytes] = {}
        self._chunks: list[bytes] = []
        self._body_size = 0
        self._body_too_large = False
        # Head limits: bytes of complete head lines seen, and of reads that began and ended inside one head (a read
        # during which a head completed may hold body bytes too).
        self._awaiting_head = True
        self._head_bytes = 0
        self._header_count = 0
        self._unparsed_head_bytes = 0
        self._heads_completed = 0
        self._head_problem: str | None = None

    # --- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's TCP transport, not asyncio's class
        self._connections.add(self)
        self._arm_idle_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._cancel_idle_timer()
        self._connections.remove(self)

    def data_received(self, data: bytes) -> None:
        # Counting what arrives bounds the parser's buffer to the limit plus two reads even while a single header
        # line is still incomplete, which the callbacks below never see.
        if self._awaiting_head and self._unparsed_head_bytes > MAX_HEAD_BYTES:
            self._reject_head(f"The request head exceeds {MAX_HEAD_BYTES} bytes.")
            return
        in_head, heads_completed = self._awaiting_head, self._heads_completed
        try:
            self._parser.feed_data(data)
        except _HeadTooLarge:
            self._reject_head(self._head_problem or "")
            return
        except httptools.HttpParserUpgrade:
            self._reject(400, "Protocol upgrades are not supported.")
            return
        except httptools.HttpParserError as error:
            if self._head_problem is not None:
                self._reject_head(self._head_problem)
            else:
                self._reject(400, f"Malformed HTTP request: {error}.")
            return
        if in_head and self._heads_completed == heads_completed:
            self._unparsed_head_bytes += len(data)  # all of it belongs to one head line, still incomplete
        else:
            self._unparsed_head_bytes = 0

    # --- httptools callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._cancel_idle_timer()
        self._in_request = True
        self._url = b""
        self._headers = {}
        self._chunks = []
        self._body_size = 0
        self._body_too_large = False
        self._awaiting_head = True
        self._head_bytes = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url), headers=0)
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + _HEADER_FRAMING_BYTES, headers=1)
        # Repeated headers: the last one counts, as for the few headers the contract reads none repeats.
        self._headers[name.lower()] = value

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._heads_completed += 1
        self._unparsed_head_bytes = 0
        limit = self._application.max_body_bytes
        declared = self._headers.get(b"content-length")
        if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
            self._body_too_large = True
        if self._headers.get(b"expect", b"").lower() == b"100-continue" and not self._body_too_large:
            self._write(_CONTINUE)

    def on_body(self, chunk: bytes) -> None:
        if self._body_too_large:
            return
        self._body_size += len(chunk)
        limit = self._application.max_body_bytes
        if limit is not None and self._body_size > limit:
            self._body_too_large = True
            self._chunks = []
        else:
            self._chunks.append(chunk)

    def on_message_complete(self) -> None:
        self._awaiting_head = True
        self._in_request = False
        method = self._parser.get_method().decode("ascii", "replace")
        path = self._url.split(b"?", 1)[0].decode("latin-1")
        body = None if self._body_too_large else b"".join(self._chunks)
        self._chunks = []
        self._queue.append(_Request(method, path, self._headers, body, self._parser.should_keep_alive()))
        if len(self._queue) >= _MAX_QUEUED_REQUESTS:
            self._pause_reading()
        self._answer_queued()

    # --- answering -------------------------------------------------------------------------------

    def _answer_queued(self) -> None:
        while self._queue and not self._busy and not self._closing:
            request = self._queue.popleft()
            if request.body is None:
                self._send(self._application.too_large(), request.keep_alive)
            elif self._application.runs_in_thread(request.method, request.path, request.body):
                self._busy = True
                self._pause_reading()
                answer = self._loop.run_in_executor(
                    None, self._application.respond, request.method, request.path, request.headers, request.body
                )
                answer.add_done_callback(lambda done, keep_alive=request.keep_alive: self._answered(done, keep_alive))
            else:
                self._send(
                    self._application.respond(request.method, request.path, request.headers, request.body),
                    request.keep_alive,
                )
        if not self._queue and not self._busy and not self._closing:
            self._resume_reading()
            self._arm_idle_timer()

    def _answered(self, done: asyncio.Future, keep_alive: bool) -> None:
        self._busy = False
        if not self._closing:
            self._send(done.result(), keep_alive)
            self._answer_queued()

    def _send(self, response: Response, keep_alive: bool) -> None:
        keep_alive = keep_alive and not self._draining
        head = (
            _STATUS_LINES[response.status]
            + b"content-type: "
            + response.content_type
            + b"\r\ncontent-length: "
            + str(len(response.body)).encode()
            + (b"\r\n\r\n" if keep_alive else b"\r\nconnection: close\r\n\r\n")
        )
        # One system call per response: the head and a small body in one buffer, a large body beside it.
        if len(response.body) <= 65536:
            self._write(head + response.body)
        else:
            self._write(head)
            self._write(response.body)
        if not keep_alive:
            self._close()

    def _reject_head(self, message: str) -> None:
        self._reject(431, f"{message} Send at most {MAX_HEADERS} headers of {MAX_HEAD_BYTES} bytes in all.")

    def _reject(self, status: int, message: str) -> None:
        """Answers a request that cannot be parsed on, and closes the connection."""
        self._queue.clear()
        self._send(Response(status, orjson.dumps({"error": message})), keep_alive=False)

    def _count(self, size: int, *, headers: int) -> None:
        self._head_bytes += size
        self._header_count += headers
        if self._header_count > MAX_HEADERS:
            self._head_problem = f"The request has more than {MAX_HEADERS} headers."
        elif self._head_bytes > MAX_HEAD_BYTES:
            self._head_problem = f"The request head exceeds {MAX_HEAD_BYTES} bytes."
        else:
            return
        raise _HeadTooLarge  # stops the parser

    # --- connection state ------------------------------------------------------------------------

    def close_when_idle(self) -> None:
        """For a stop: closes the connection now if it holds no request, else once that request is answered (the
        answer says ``connection: close``)."""
        self._draining = True
        if not (self._in_request or self._busy or self._queue):
            self._close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def _close(self) -> None:
        self._closing = True
        self._cancel_idle_timer()
        if self._transport is not None:
            self._transport.close()

    def _pause_reading(self) -> None:
        if self._reading and self._transport is not None and not self._transport.is_closing():
            self._transport.pause_reading()
            self._reading = False

    def _resume_reading(self) -> None:
        if not self._reading and self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()
            self._reading = True

    def _arm_idle_timer(self) -> None:
        self._cancel_idle_timer()
        self._idle_timer = self._loop.call_later(self._idle_timeout, self._close)

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
