"""A local HTTP server that answers like Africa's Talking's SMS API (``POST /version1/messaging``).

It records every request (path, headers, form fields) and answers from a script of canned
replies, then with the default "accepted" reply. Used by the tests and by bench/sms_worker.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Reply:
    status: int = 201
    body: Any = None  # dict -> JSON; str -> sent as is
    content_type: str = "application/json"
    delay: float = 0.0
    recipient_code: int | None = None  # shortcut: one recipient with this statusCode
    recipient_status: str = ""


AT_STATUS_NAMES = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    500: "InternalServerError",
    501: "GatewayError",
}


@dataclass
class FakeAfricasTalking:
    host: str = "127.0.0.1"
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}/version1"

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    def _next(self) -> Reply:
        with self._lock:
            return self.script.popleft() if self.script else Reply()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(
                {"path": handler.path, "headers": dict(handler.headers.items()), "form": form}
            )
        reply = self._next()
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body
        if body is None:
            code = 101 if reply.recipient_code is None else reply.recipient_code
            accepted = code in (100, 101, 102)
            body = {
                "SMSMessageData": {
                    "Message": "Sent to 1/1 Total Cost: KES 0.8000" if accepted else "Sent to 0/1",
                    "Recipients": [
                        {
                            "statusCode": code,
                            "number": form.get("to", ""),
                            "status": reply.recipient_status or AT_STATUS_NAMES.get(code, "?"),
                            "cost": "KES 0.8000" if accepted else "0",
                            "messageId": f"ATXid_{uuid.uuid4().hex}" if accepted else "None",
                        }
                    ],
                }
            }
        data = (json.dumps(body) if isinstance(body, dict) else str(body)).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def start(self) -> FakeAfricasTalking:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                if self.path != "/version1/messaging":
                    self.send_error(404)
                    return
                fake._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        # A short poll: stop() (shutdown) waits for the loop to notice, up to one interval.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
