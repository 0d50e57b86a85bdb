"""The HTTP/1.1 connection handling of each worker: uvicorn's httptools protocol with limits on request heads, and
one write per response.

httptools buffers a header line whole before it hands it over and counts neither header bytes nor headers, so
without limits one request can make a worker hold a header of any size. Here a request whose head (request line and
headers) exceeds ``MAX_HEAD_BYTES``, or which has more than ``MAX_HEADERS`` headers, is answered 431 and its
connection closed. What SageMaker's front end forwards (a few headers, custom attributes up to 1 KB) stays far below.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, ClassVar

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
# A header line's name, value, ": " and CRLF.
_HEADER_FRAMING_BYTES = 4


class _HeadTooLarge(Exception):
    pass


class _OneWritePerResponse:
    """The connection's transport, holding each write until the end of the event loop's iteration or the next write.

    uvicorn writes a response's head and its body separately, two system calls where one does: the head is held,
    and the body that follows at once goes out with it (one writev). Everything else is the transport's.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.writelines((self._held, data))
            self._held = None

    def writelines(self, chunks: Iterable[bytes]) -> None:
        self._flush()
        self._transport.writelines(chunks)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def _flush(self) -> None:
        # A connection the client closed meanwhile has nowhere to send it.
        if self._held is not None and not self._transport.is_closing():
            self._transport.write(self._held)
        self._held = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeadLimitedProtocol(HttpToolsProtocol):
    """Answers 431 to a request head over ``MAX_HEAD_BYTES`` or ``MAX_HEADERS``, and writes each response at once;
    otherwise uvicorn's protocol."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_head = True
        self._messages_begun = 0
        self._head_bytes_received = 0
        self._head_bytes = 0
        self._header_count = 0
        self._head_problem: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_OneWritePerResponse(transport))

    def data_received(self, data: bytes) -> None:
        # Counting what arrives bounds the parser's buffer to the limit plus two reads even while a single header
        # line is still incomplete, which the callbacks below never see.
        if self._awaiting_head and self._head_bytes_received > MAX_HEAD_BYTES:
            self._reject(f"The request head exceeds {MAX_HEAD_BYTES} bytes.")
            return
        in_head, messages_begun = self._awaiting_head, self._messages_begun
        super().data_received(data)
        if in_head and self._awaiting_head and self._messages_begun == messages_begun:
            self._head_bytes_received += len(data)  # all of it belongs to one head, still incomplete
        else:
            # The read also held a body or the end of another request; the callbacks count its complete lines.
            self._head_bytes_received = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._messages_begun += 1
        self._head_bytes = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url), headers=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + _HEADER_FRAMING_BYTES, headers=1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes_received = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True

    def _count(self, size: int, *, headers: int) -> None:
        self._head_bytes += size
        self._header_count += headers
        if self._header_count > MAX_HEADERS:
            self._head_problem = f"The request has more than {MAX_HEADERS} headers."
        elif self._head_bytes > MAX_HEAD_BYTES:
            self._head_problem = f"The request head exceeds {MAX_HEAD_BYTES} bytes."
        else:
            return
        # Stops the parser; uvicorn answers a parser error through send_400_response, which answers 431 instead.
        raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if self._head_problem is None:
            super().send_400_response(msg)
        else:
            self._reject(self._head_problem)

    def _reject(self, message: str) -> None:
        body = orjson.dumps(
            {"error": f"{message} Send at most {MAX_HEADERS} headers of {MAX_HEAD_BYTES} bytes in all."}
        )
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        self.transport.close()


class ModelServerWorker(UvicornWorker):
    """gunicorn's uvicorn worker on uvloop with this module's protocol."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {"loop": "uvloop", "http": HeadLimitedProtocol}
