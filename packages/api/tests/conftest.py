from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

DIGEST_REALM, DIGEST_NONCE = "om", "abc123"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def _reply(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _digest_ok(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Digest "):
            return False
        fields = dict(re.findall(r'(\w+)="?([^",]+)"?', auth))
        ha1 = _md5(f"u:{DIGEST_REALM}:p")
        ha2 = _md5(f"{self.command}:{fields['uri']}")
        expected = _md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}")
        return fields.get("response") == expected

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path == "/echo":
            self._reply(
                200,
                json.dumps(
                    {
                        "method": self.command,
                        "path": self.path,
                        "json": json.loads(body) if body else None,
                        "content_type": self.headers.get("Content-Type"),
                        "token": self.headers.get("X-Token"),
                    }
                ).encode(),
            )
        elif path == "/basic":
            ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:p").decode()
            self._reply(200 if ok else 401, b'{"ok": true}' if ok else b"")
        elif path == "/digest":
            if self._digest_ok():
                self._reply(200, b'{"digest": true}')
            else:
                self._reply(
                    401,
                    b"",
                    {
                        "WWW-Authenticate": f'Digest realm="{DIGEST_REALM}", nonce="{DIGEST_NONCE}", qop="auth"'
                    },
                )
        elif path == "/raw":
            self._reply(200, b"\x00binary")
        elif path == "/status":
            self._reply(int(self.path.split("=")[1]), b'{"error": "x"}')
        elif path == "/slow":
            time.sleep(2)
            self._reply(200, b"{}")
        else:
            self._reply(404, b"")

    do_GET = do_POST = do_PUT = do_DELETE = _handle


@pytest.fixture(scope="session")
def http_server() -> Iterator[SimpleNamespace]:
    """A real HTTP server on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()
