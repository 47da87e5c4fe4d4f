"""Fixtures for activation tests: a file root in a temporary directory and a local webhook."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture(autouse=True)
def activation_settings(settings, tmp_path):
    settings.ACTIVATION_FILE_ROOT = tmp_path / "drops"
    settings.ACTIVATION_WEBHOOK_TIMEOUT = 0.5
    settings.ACTIVATION_RETRY_BASE_SECONDS = 10
    return settings


class Receiver:
    """A webhook on 127.0.0.1 that answers from a script: 'fail' (500), 'hang', 'garbage'
    (a 2xx-less junk answer) or 'ok' (200); after the script it answers 'ok'."""

    def __init__(self) -> None:
        self.script: list[str] = []
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    step = receiver.script.pop(0) if receiver.script else "ok"
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "answer": step}
                    )
                if step == "hang":
                    time.sleep(1.5)
                    return
                if step == "garbage":
                    self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
                    return
                status = 200 if step == "ok" else 500
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if r["answer"] == "ok"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
