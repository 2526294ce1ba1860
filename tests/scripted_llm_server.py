"""A tiny OpenAI-protocol chat server that replays scripted completions, for tests at the HTTP boundary.

    with ScriptedLLMServer() as server:
        server.enqueue(Reply("The Moon cannot be claimed [1]."))
        ... point an OpenAI client at server.base_url ...
        server.requests[-1]["body"]["messages"]  # headers: lower-case names

A reply comes from the queue first, then from the first marker found in the last user message, then the
default (an abstention). A reply's content may be a function of the request body, so a test can cite the
passage number the prompt actually gave a text (`passage_number`). Failures: `sleep` (longer than the
client's timeout), `status` (e.g. 500), `raw` (a body that is not valid JSON), empty content.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FENCE = re.compile(r"```passage \[(\d+)\]\n(.*?)\n```", re.DOTALL)


@dataclass
class Reply:
    content: str | Callable[[dict], str] = ""
    sleep: float = 0.0
    status: int = 200
    raw: str | None = None  # sent as the body as-is (e.g. invalid JSON)


def last_user_message(body: dict) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


def fenced(text: str) -> dict[int, str]:
    """Passage number -> the text inside its fence."""
    return {int(n): inner for n, inner in FENCE.findall(text)}


def outside_fences(text: str) -> str:
    return FENCE.sub("", text)


def passage_number(body: dict, needle: str) -> int:
    """The number the prompt gave the passage whose text contains `needle`."""
    for n, inner in fenced(last_user_message(body)).items():
        if needle.lower() in inner.lower():
            return n
    raise AssertionError(f"no fenced passage contains {needle!r}")


class ScriptedLLMServer:
    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply("The corpus does not answer this question.")
        self.queue: deque[Reply] = deque()
        self.markers: dict[str, Reply] = {}
        self.requests: list[dict] = []
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None

    # -- scripting -------------------------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    def on(self, marker: str, reply: Reply) -> None:
        self.markers[marker] = reply

    def choose(self, body: dict) -> Reply:
        if self.queue:
            return self.queue.popleft()
        text = last_user_message(body)
        return next((r for m, r in self.markers.items() if m in text), self.default)

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> ScriptedLLMServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes handlers that are simulating a slow model
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def _handler(server: ScriptedLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._send(200, json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode())
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:
            try:
                self._post()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _post(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, b'{"error": {"message": "not found"}}')
            try:
                body = json.loads(raw)
            except ValueError:
                return self._send(400, b'{"error": {"message": "invalid JSON"}}')
            server.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            reply = server.choose(body)
            if reply.sleep and server._stop.wait(reply.sleep):
                return
            if reply.status != 200:
                error = {"error": {"message": "scripted failure", "type": "server_error", "code": reply.status}}
                return self._send(reply.status, json.dumps(error).encode())
            if reply.raw is not None:
                return self._send(200, reply.raw.encode())
            content = reply.content(body) if callable(reply.content) else reply.content
            model = body.get("model", "scripted")
            if body.get("stream"):
                return self._stream(content, model)
            completion = {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            self._send(200, json.dumps(completion).encode())

        def _stream(self, content: str, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            cid, created = f"chatcmpl-{uuid.uuid4().hex[:12]}", int(time.time())

            def chunk(delta: dict, finish: str | None = None) -> None:
                data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

            chunk({"role": "assistant", "content": ""})
            for piece in re.findall(r"\S+\s*|\s+", content):
                chunk({"content": piece})
            chunk({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler
