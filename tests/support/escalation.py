"""Receivers on loopback for the escalation tests: a webhook endpoint (HTTP, own thread) and an SMTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The SMTP receiver lives with the other loopback servers; re-exported for the escalation tests.
from tests.fakes.smtp_servers import body_text, mail_receiver

SECRET = "whsec-test-8c1d2e"


@dataclass
class Delivery:
    """One POST the receiver saw, and what it answered."""

    key: str | None
    body: bytes
    signature_ok: bool
    status: int
    at: float  # time.monotonic() when the answer was decided

    @property
    def packet(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


# The receiver's answer to a request: (status, extra headers).
Answer = tuple[int, dict[str, str]]


def always_ok(_n: int, _key: str | None) -> Answer:
    return 200, {}


@dataclass
class WebhookReceiver:
    """A helpdesk's webhook endpoint: checks X-Supportbot-Signature, answers as `plan` says, records all."""

    secret: str = SECRET
    plan: Callable[[int, str | None], Answer] = always_ok
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(self.headers.get("X-Supportbot-Signature", ""), expected)
                key = self.headers.get("Idempotency-Key")
                with receiver.lock:
                    status, headers = receiver.plan(len(receiver.deliveries), key)
                    receiver.deliveries.append(Delivery(key, body, signed, status, time.monotonic()))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/supportbot"

    def accepted(self) -> list[Delivery]:
        with self.lock:
            return [d for d in self.deliveries if 200 <= d.status < 300]

    def accepted_keys(self) -> Counter[str | None]:
        return Counter(d.key for d in self.accepted())


__all__ = ["SECRET", "Delivery", "WebhookReceiver", "body_text", "mail_receiver"]
