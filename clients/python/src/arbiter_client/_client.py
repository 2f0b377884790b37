"""Sync and async clients for the native API of `arbiter serve`.

Both clients share everything except the I/O: request building, response parsing and the retry
policy live in module-level helpers, and each client runs the same loop with `time.sleep` or
`asyncio.sleep`.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8787"
# Judging a step with an LLM judge can take minutes; OpenRLHF waits 180 s per request.
DEFAULT_TIMEOUT = 300.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RETRIES = 4
STATUSES = ("scored", "fallback", "excluded", "refused")


class ArbiterError(Exception):
    """A request the service refused or could not answer.

    `status` is the HTTP status (None when no response came back at all, e.g. connection refused
    after every retry). The service answers errors as `{"error": <code>, "message": <text>}`:
    `code` is that code (e.g. `idempotency_key_reused`, `not_ready`, `unknown_run`; the HTTP API
    table of docs/connect-your-trainer.md lists them) and `message` its text. `retryable` says
    whether sending the same request again (with the same request id) may succeed.
    """

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        body: Any = None,
        code: Optional[str] = None,
        retryable: bool = False,
    ) -> None:
        prefix = f"{status} {code}" if status is not None and code else (str(status) if status is not None else None)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        self.retryable = retryable


@dataclass(frozen=True)
class Reward:
    """One rollout's reward as the service reports it.

    `reward` is None for an excluded rollout. For `status == "fallback"` the judge failed and
    `reward` is the run's configured fallback value, not a judgement; the flags say why.
    """

    id: str
    reward: Optional[float]
    status: str
    flags: List[str] = field(default_factory=list)
    breakdown: Dict[str, float] = field(default_factory=dict)
    # Why a `refused` rollout was never judged (e.g. too long for the worker).
    reason: Optional[str] = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Reward":
        if not isinstance(obj, Mapping) or "id" not in obj:
            raise ArbiterError(f"malformed reward in response: {obj!r}")
        value = obj.get("reward")
        status = obj.get("status")
        if status not in STATUSES:
            raise ArbiterError(f"reward {obj['id']!r} has unknown status {status!r}")
        return cls(
            id=str(obj["id"]),
            reward=None if value is None else float(value),
            status=status,
            flags=[str(f) for f in obj.get("flags") or []],
            breakdown={str(k): float(v) for k, v in (obj.get("breakdown") or {}).items()},
            reason=None if obj.get("reason") is None else str(obj["reason"]),
        )


Rollout = Mapping[str, Any]  # {"id", "prompt", "response" | "messages", "reference"?, "group"?}


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


def _env_url() -> str:
    return (os.environ.get("ARBITER_URL") or DEFAULT_URL).rstrip("/")


def _headers(token: Optional[str]) -> Dict[str, str]:
    headers = {"accept": "application/json", "user-agent": "arbiter-rft-client/0.1"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def _rollout_json(r: Rollout) -> Dict[str, Any]:
    # A rollout is a prompt and a response, or a trajectory: messages ending with the answer.
    needed = ("id", "messages") if "messages" in r else ("id", "prompt", "response")
    missing = [k for k in needed if k not in r]
    if missing:
        raise ValueError(f"rollout {dict(r)!r} lacks {', '.join(missing)}")
    out: Dict[str, Any] = {"id": str(r["id"])}
    for key in needed[1:]:
        out[key] = r[key]
    for key in ("reference", "group"):
        if r.get(key) is not None:
            out[key] = r[key]
    return out


def _score_request(
    run_id: str, step: Optional[int], rollouts: Sequence[Rollout], request_id: Optional[str]
) -> Tuple[str, Dict[str, Any], List[str]]:
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        raise ValueError(f"step must be a non-negative int or None, got {step!r}")
    body_rollouts = [_rollout_json(r) for r in rollouts]
    ids = [r["id"] for r in body_rollouts]
    if len(set(ids)) != len(ids):
        raise ValueError("rollout ids must be unique within a request")
    run = quote(str(run_id), safe='')
    # No step: the service numbers it and merges concurrent requests into one step, so any number
    # of calls per training step work. A step: this request is that whole step of the run.
    path = f"/v1/runs/{run}/rewards" if step is None else f"/v1/runs/{run}/steps/{step}/rewards"
    # One id per call, reused by every retry: the service deduplicates on it, so a retried
    # request returns the first answer and is never judged (or paid for) twice.
    body = {"rollouts": body_rollouts, "requestId": request_id or str(uuid.uuid4())}
    return path, body, ids


def _parse_rewards(data: Any, ids: List[str]) -> List[Reward]:
    if not isinstance(data, Mapping) or not isinstance(data.get("rewards"), list):
        raise ArbiterError(f"response has no rewards list: {data!r}"[:500])
    by_id = {}
    for item in data["rewards"]:
        reward = Reward.from_json(item)
        by_id[reward.id] = reward
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise ArbiterError(f"response lacks rewards for {len(missing)} rollout(s): {missing[:5]}")
    return [by_id[i] for i in ids]  # in the caller's order, whatever order the service used


def _error_from(response: httpx.Response) -> ArbiterError:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    code: Optional[str] = None
    retryable = _retryable(response.status_code)
    if isinstance(body, Mapping) and body.get("error"):
        code = str(body["error"])
        message = str(body.get("message") or code)
        details = body.get("details")
        if isinstance(details, Mapping) and isinstance(details.get("retryable"), bool):
            retryable = details["retryable"]
    else:
        message = (str(body) or response.reason_phrase or "no body")[:500]
    return ArbiterError(message, status=response.status_code, body=body, code=code, retryable=retryable)


def _decode(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise _error_from(response)
    try:
        return response.json()
    except ValueError:
        raise ArbiterError(
            f"response is not JSON: {response.text[:200]!r}", status=response.status_code
        ) from None


class _Policy:
    """Retry policy: exponential backoff with full jitter, Retry-After honoured (capped)."""

    def __init__(self, retries: int, backoff: float, max_backoff: float) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def delay(self, attempt: int, response: Optional[httpx.Response]) -> float:
        if response is not None:
            after = response.headers.get("retry-after")
            if after is not None:
                try:
                    return min(max(float(after), 0.0), self.max_backoff)
                except ValueError:
                    pass
        ceiling = min(self.max_backoff, self.backoff * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


def _give_up(exc: Optional[BaseException], response: Optional[httpx.Response]) -> ArbiterError:
    if response is not None:
        return _error_from(response)
    return ArbiterError(f"could not reach the Arbiter service: {exc!r}")


class _Base:
    def __init__(
        self,
        base_url: Optional[str],
        token: Optional[str],
        timeout: float,
        connect_timeout: float,
        retries: int,
        backoff: float,
        max_backoff: float,
    ) -> None:
        self.base_url = (base_url or _env_url()).rstrip("/")
        self.token = token if token is not None else os.environ.get("ARBITER_TOKEN") or None
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.policy = _Policy(retries, backoff, max_backoff)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"


class ArbiterClient(_Base):
    """Blocking client. Thread-safe; safe to use after `os.fork()` (the child gets new sockets)."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        super().__init__(base_url, token, timeout, connect_timeout, retries, backoff, max_backoff)
        self._transport = transport
        self._http: Optional[httpx.Client] = None
        self._pid = -1
        self._lock, self._lock_pid = threading.Lock(), os.getpid()

    def _client(self) -> httpx.Client:
        pid = os.getpid()
        http = self._http
        if http is not None and self._pid == pid:
            return http
        if self._lock_pid != pid:  # a lock copied across fork may be held by a parent thread
            self._lock, self._lock_pid = threading.Lock(), pid
        with self._lock:
            if self._http is None or self._pid != pid:
                # After a fork the parent's pooled connections are shared sockets: never reuse
                # them, and never close them from the child (that would cut the parent's requests).
                self._http = httpx.Client(
                    base_url=self.base_url,
                    headers=_headers(self.token),
                    timeout=self.timeout,
                    transport=self._transport,
                )
                self._pid = pid
            return self._http

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        attempt = 0
        while True:
            response: Optional[httpx.Response] = None
            exc: Optional[BaseException] = None
            try:
                response = self._client().request(method, path, json=body)
            except httpx.TransportError as e:  # connect errors, timeouts, dropped connections
                exc = e
            if response is not None and not _retryable(response.status_code):
                return _decode(response)
            if attempt >= self.policy.retries:
                raise _give_up(exc, response) from exc
            time.sleep(self.policy.delay(attempt, response))
            attempt += 1

    def create_run(self, config: Mapping[str, Any]) -> Dict[str, Any]:
        """Create (or find, idempotent on runId) a run; returns the service's answer."""
        if "runId" not in config:
            raise ValueError("run config needs a runId")
        return self._request("POST", "/v1/runs", dict(config))

    def score(
        self,
        run_id: str,
        step: Optional[int],
        rollouts: Sequence[Rollout],
        request_id: Optional[str] = None,
    ) -> List[Reward]:
        """Score rollouts: `step=None` lets the service number the step (and merge concurrent calls
        into it); a number makes this request that whole step. Rewards come back in `rollouts` order."""
        path, body, ids = _score_request(run_id, step, rollouts, request_id)
        if not ids:
            return []
        return _parse_rewards(self._request("POST", path, body), ids)

    def health(self) -> Dict[str, Any]:
        return self._request("GET", "/healthz")

    def ready(self) -> bool:
        try:
            self._request("GET", "/readyz")
            return True
        except ArbiterError:
            return False

    def close(self) -> None:
        if self._http is not None and self._pid == os.getpid():
            self._http.close()
        self._http = None

    def __enter__(self) -> "ArbiterClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncArbiterClient(_Base):
    """asyncio client. Its connection pool belongs to one event loop and one process: used from
    another loop (TRL runs async reward functions on a loop of its own) or after a fork, it opens
    a new pool instead of touching the old one."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        super().__init__(base_url, token, timeout, connect_timeout, retries, backoff, max_backoff)
        self._transport = transport
        self._http: Optional[httpx.AsyncClient] = None
        self._owner: Tuple[int, Any] = (-1, None)

    def _client(self) -> httpx.AsyncClient:
        owner = (os.getpid(), asyncio.get_running_loop())
        if self._http is None or self._owner[0] != owner[0] or self._owner[1] is not owner[1]:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers=_headers(self.token),
                timeout=self.timeout,
                transport=self._transport,
            )
            self._owner = owner
        return self._http

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        attempt = 0
        while True:
            response: Optional[httpx.Response] = None
            exc: Optional[BaseException] = None
            try:
                response = await self._client().request(method, path, json=body)
            except httpx.TransportError as e:
                exc = e
            if response is not None and not _retryable(response.status_code):
                return _decode(response)
            if attempt >= self.policy.retries:
                raise _give_up(exc, response) from exc
            await asyncio.sleep(self.policy.delay(attempt, response))
            attempt += 1

    async def create_run(self, config: Mapping[str, Any]) -> Dict[str, Any]:
        if "runId" not in config:
            raise ValueError("run config needs a runId")
        return await self._request("POST", "/v1/runs", dict(config))

    async def score(
        self,
        run_id: str,
        step: Optional[int],
        rollouts: Sequence[Rollout],
        request_id: Optional[str] = None,
    ) -> List[Reward]:
        path, body, ids = _score_request(run_id, step, rollouts, request_id)
        if not ids:
            return []
        return _parse_rewards(await self._request("POST", path, body), ids)

    async def health(self) -> Dict[str, Any]:
        return await self._request("GET", "/healthz")

    async def ready(self) -> bool:
        try:
            await self._request("GET", "/readyz")
            return True
        except ArbiterError:
            return False

    async def aclose(self) -> None:
        http, self._http = self._http, None
        if http is not None and self._owner[0] == os.getpid():
            try:
                await http.aclose()
            except RuntimeError:  # pool opened on a loop that has since closed
                pass

    async def __aenter__(self) -> "AsyncArbiterClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


def reward_value(reward: Reward, include_fallbacks: bool = False) -> Optional[float]:
    """The number a trainer should train on, or None.

    `excluded` has no number. `fallback` means the judge failed and the number is the run's
    neutral stand-in: None by default, so a trainer never trains on a judge failure; pass
    `include_fallbacks=True` to get the number anyway.
    """
    if reward.status == "scored":
        return reward.reward
    if reward.status == "fallback" and include_fallbacks:
        return reward.reward
    return None
