"""A small in-process stand-in for `arbiter serve`'s native API.

It speaks the wire shapes the client codes against (POST /v1/runs, POST
/v1/runs/{runId}/steps/{step}/rewards, GET /healthz, GET /readyz, bearer token, `{"error": <code>,
"message": ...}` bodies, as the real service sends them), deduplicates on requestId like the real service, and can be told to answer the next
requests with a given status or to drop the connection.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import pytest

SCORE_PATH = re.compile(r"^/v1/runs/([^/]+)(?:/steps/(\d+))?/rewards$")


class FakeArbiter:
    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token
        self.runs: Dict[str, Dict[str, Any]] = {}
        self.requests: List[Dict[str, Any]] = []  # every request that reached a handler
        self.judged: List[str] = []  # rollout ids judged (a deduplicated retry judges nothing)
        self.answers: Dict[str, Tuple[int, Dict[str, Any]]] = {}
        self.script: List[Any] = []  # next answers: (status, body) or "drop"
        self.lock = threading.Lock()

    def judge(self, rollout: Dict[str, Any]) -> Dict[str, Any]:
        self.judged.append(rollout["id"])
        # A trajectory's response is its last (assistant) message, as the service reads it.
        response = rollout["response"] if "messages" not in rollout else rollout["messages"][-1]["content"]
        if "EXCLUDE" in response:
            return {"id": rollout["id"], "reward": None, "status": "excluded", "flags": ["safety_veto"]}
        if "JUDGEFAIL" in response:
            return {"id": rollout["id"], "reward": 0.5, "status": "fallback", "flags": ["judge_failed"]}
        correct = rollout.get("reference") is not None and response.strip() == rollout["reference"]
        return {
            "id": rollout["id"],
            "reward": 1.0 if correct else 0.25,
            "status": "scored",
            "flags": [],
            "breakdown": {"judge": 1.0 if correct else 0.0, "length": 0.25},
        }

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Any:
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": dict(headers), "body": body})
            if self.script:
                return self.script.pop(0)
        if path == "/healthz":
            return 200, {"ok": True}
        if path == "/readyz":
            return 200, {"ready": True}
        if self.token and headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized", "message": "missing or wrong bearer token"}
        if method == "POST" and path == "/v1/runs":
            if not isinstance(body, dict) or "runId" not in body:
                return 400, {"error": "invalid_request", "message": "runId is required"}
            self.runs.setdefault(body["runId"], body)
            return 201, {"runId": body["runId"], "created": True}
        match = SCORE_PATH.match(path)
        if method == "POST" and match:
            run_id = match.group(1)
            step = int(match.group(2)) if match.group(2) else len(self.answers)  # the service numbers it
            if run_id not in self.runs:
                return 404, {"error": "unknown_run", "message": f"unknown run {run_id}"}
            request_id = body.get("requestId")
            with self.lock:
                if request_id in self.answers:
                    if self.answers[request_id][2] != body["rollouts"]:
                        return 409, {"error": "idempotency_key_reused", "message": f"request key {request_id!r} was used before for other content"}
                    return self.answers[request_id][:2]
            rewards = [self.judge(r) for r in body["rollouts"]]
            answer = (200, {"runId": run_id, "step": step, "rewards": rewards[::-1], "summary": {"n": len(rewards)}})
            with self.lock:
                self.answers[request_id] = (*answer, body["rollouts"])
            return answer
        return 404, {"error": "not_found", "message": f"no route {method} {path}"}


def _handler(fake: FakeArbiter) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = fake.handle(method, self.path, headers, body)
            if answer == "drop":
                self.close_connection = True
                return
            status, payload = answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


class Server:
    def __init__(self, token: Optional[str] = None) -> None:
        self.fake = FakeArbiter(token)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    s.fake.runs["r1"] = {"runId": "r1"}
    yield s
    s.stop()


@pytest.fixture
def secured_server():
    s = Server(token="s3cret")
    s.fake.runs["r1"] = {"runId": "r1"}
    yield s
    s.stop()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_ambient_arbiter_env(monkeypatch):
    for name in ("ARBITER_URL", "ARBITER_TOKEN", "ARBITER_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
