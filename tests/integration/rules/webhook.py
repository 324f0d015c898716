"""A real loopback HTTP receiver for notifier tests: records every request, fails the first N per key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def by_key(self, key: str) -> list[Received]:
        return [r for r in self.requests if r.headers.get("Idempotency-Key") == key]


@contextmanager
def webhook_receiver(fail_first: int = 0) -> Iterator[Receiver]:
    """Answer 503 to the first `fail_first` requests of each idempotency key and 204 afterwards."""
    receiver = Receiver(fail_first=fail_first)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                received = Received(dict(self.headers.items()), body)
                receiver.requests.append(received)
                failing = len(receiver.by_key(received.headers.get("Idempotency-Key", ""))) <= receiver.fail_first
            self.send_response(503 if failing else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the notifier sends a batch at once; the default backlog of 5 drops them

    server = Server(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
