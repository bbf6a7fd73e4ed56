"""A response's head and body leave in one send; nothing written is lost or reordered on close."""

from __future__ import annotations

import asyncio
import socket

from bot.channels.web.onesend import OneSend


async def _pair() -> tuple[asyncio.Transport, socket.socket]:
    """A real TCP connection on loopback: the server side's transport and the client's socket."""
    made: asyncio.Future[asyncio.Transport] = asyncio.get_running_loop().create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.set_result(transport)  # type: ignore[arg-type]

    server = await asyncio.get_running_loop().create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    transport = await made
    server.close()
    return transport, client


class Counting:
    """Counts the sends that reach a transport."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.sends: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sends.append(data)
        self.transport.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.transport, name)


async def _read(client: socket.socket, size: int) -> bytes:
    """`size` bytes from the client's side (or fewer if the connection ends), off the event loop."""

    def read() -> bytes:
        got = b""
        client.settimeout(5)
        while len(got) < size:
            chunk = client.recv(size - len(got))
            if not chunk:
                break
            got += chunk
        return got

    return await asyncio.to_thread(read)


async def test_writes_of_one_turn_of_the_loop_go_out_as_one_send() -> None:
    transport, client = await _pair()
    counting = Counting(transport)
    wrapped = OneSend(counting, asyncio.get_running_loop())  # type: ignore[arg-type]
    wrapped.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    wrapped.write(b"ok")
    assert counting.sends == []  # nothing yet: the turn of the loop is not over
    await asyncio.sleep(0)
    assert counting.sends == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    wrapped.write(b"next")  # a later turn: a send of its own
    await asyncio.sleep(0)
    assert counting.sends[1:] == [b"next"]
    assert await _read(client, 44) == b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\noknext"
    wrapped.close()
    client.close()


async def test_close_sends_what_was_written_before_the_connection_ends() -> None:
    transport, client = await _pair()
    wrapped = OneSend(transport, asyncio.get_running_loop())
    wrapped.write(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
    assert wrapped.get_write_buffer_size() >= 32  # counted while it waits
    wrapped.close()
    # All of it, then the end of the connection.
    assert await _read(client, 100) == b"HTTP/1.1 408 Request Timeout\r\n\r\n"
    client.close()


async def test_abort_drops_what_waits_and_a_closed_transport_is_not_written() -> None:
    transport, client = await _pair()
    wrapped = OneSend(transport, asyncio.get_running_loop())
    wrapped.write(b"never sent")
    wrapped.abort()
    await asyncio.sleep(0)  # the scheduled send finds nothing to send
    assert await _read(client, 100) == b""
    client.close()
