"""A connection's transport that sends what one turn of the event loop wrote as one segment."""

from __future__ import annotations

import asyncio
from typing import Any

# Why: uvicorn writes a response's head and its body with two transport.write calls, and each is a
# send(2) at once; on a busy server a send costs about as much as a small handler (the receiving
# side's TCP work runs in it too). Writes made in the same turn of the loop (a response's head and
# body always are) are joined and sent after it, one send instead of two (bench/README.md).


class OneSend:
    """Wraps a transport: `write` collects, the loop's next turn sends; everything else passes through."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()  # what was written goes out before the FIN
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
