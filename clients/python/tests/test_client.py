from __future__ import annotations

import os
import sys

import httpx
import pytest

from arbiter_client import ArbiterClient, ArbiterError, AsyncArbiterClient, Reward, client_for_process

ROLLOUTS = [
    {"id": "a", "prompt": "2+2?", "response": "4", "reference": "4", "group": "g"},
    {"id": "b", "prompt": "2+2?", "response": "5", "reference": "4", "group": "g"},
    {"id": "c", "prompt": "2+2?", "response": "EXCLUDE me"},
]


def fast(url: str, **kw) -> ArbiterClient:
    return ArbiterClient(url, backoff=0.01, max_backoff=0.05, **kw)


def test_score_round_trip_returns_rewards_in_the_callers_order(server):
    with fast(server.url) as client:
        rewards = client.score("r1", 3, ROLLOUTS)
    assert [r.id for r in rewards] == ["a", "b", "c"]  # the fake answers in reverse order
    assert rewards[0] == Reward("a", 1.0, "scored", [], {"judge": 1.0, "length": 0.25})
    assert rewards[1].reward == 0.25
    assert rewards[2].reward is None and rewards[2].status == "excluded" and rewards[2].flags == ["safety_veto"]
    sent = server.fake.requests[-1]
    assert sent["path"] == "/v1/runs/r1/steps/3/rewards"
    assert sent["body"]["rollouts"][2] == {"id": "c", "prompt": "2+2?", "response": "EXCLUDE me"}
    assert len(sent["body"]["requestId"]) == 36  # a uuid4, made once per call


def test_create_run_and_health(server):
    with fast(server.url) as client:
        assert client.create_run({"runId": "r2", "steps": 100, "rollouts": {"type": "updates"}})["runId"] == "r2"
        assert client.health() == {"ok": True}
        assert client.ready() is True
    assert server.fake.runs["r2"]["steps"] == 100


def test_base_url_and_token_default_from_the_environment(secured_server, monkeypatch):
    monkeypatch.setenv("ARBITER_URL", secured_server.url + "/")
    monkeypatch.setenv("ARBITER_TOKEN", "s3cret")
    client = ArbiterClient()
    assert client.base_url == secured_server.url
    assert client.score("r1", 0, ROLLOUTS[:1])[0].reward == 1.0
    assert secured_server.fake.requests[-1]["headers"]["authorization"] == "Bearer s3cret"


def test_default_url_is_loopback_8787():
    assert ArbiterClient().base_url == "http://127.0.0.1:8787"


def test_wrong_token_raises_arbiter_error_with_status_and_service_message(secured_server):
    client = fast(secured_server.url, token="wrong")
    with pytest.raises(ArbiterError) as err:
        client.score("r1", 0, ROLLOUTS)
    assert err.value.status == 401 and err.value.code == "unauthorized"
    assert err.value.message == "missing or wrong bearer token"
    assert len(secured_server.fake.requests) == 1  # a 4xx is not retried


def test_unknown_run_raises_404(server):
    with pytest.raises(ArbiterError) as err:
        fast(server.url).score("nope", 0, ROLLOUTS)
    assert err.value.status == 404 and err.value.code == "unknown_run" and "unknown run nope" in err.value.message


def test_retries_after_5xx_429_and_dropped_connections_reuse_the_request_id(server):
    server.fake.script = [
        (503, {"error": "not_ready", "message": "not answered in time", "details": {"retryable": True}}),
        "drop",
        (429, {"error": "slow_down", "message": "slow down"}),
    ]
    rewards = fast(server.url).score("r1", 1, ROLLOUTS)
    assert [r.id for r in rewards] == ["a", "b", "c"]
    posts = [r for r in server.fake.requests if r["method"] == "POST"]
    assert len(posts) == 4
    assert len({p["body"]["requestId"] for p in posts}) == 1
    assert server.fake.judged == ["a", "b", "c"]


def test_a_retry_of_an_answered_request_is_not_judged_again(server):
    client = fast(server.url)
    first = client.score("r1", 2, ROLLOUTS, request_id="req-7")
    again = client.score("r1", 2, ROLLOUTS, request_id="req-7")
    assert first == again
    assert server.fake.judged == ["a", "b", "c"]


def test_gives_up_after_the_retry_budget_with_the_last_error(server):
    server.fake.script = [(502, {"error": "bad_gateway", "message": "bad gateway"})] * 3
    with pytest.raises(ArbiterError) as err:
        fast(server.url, retries=2).score("r1", 0, ROLLOUTS)
    assert err.value.status == 502 and err.value.code == "bad_gateway" and err.value.message == "bad gateway"
    assert err.value.retryable


def test_a_request_id_reused_for_other_rollouts_is_refused_with_its_code_and_not_retried(server):
    client = fast(server.url)
    client.score("r1", 2, ROLLOUTS, request_id="req-9")
    other = [dict(r, response="something else") for r in ROLLOUTS]
    with pytest.raises(ArbiterError) as err:
        client.score("r1", 2, other, request_id="req-9")
    assert err.value.status == 409 and err.value.code == "idempotency_key_reused"
    assert "req-9" in err.value.message and not err.value.retryable
    assert len([r for r in server.fake.requests if r["method"] == "POST"]) == 2


def test_unreachable_service_raises_arbiter_error_without_status():
    client = ArbiterClient("http://127.0.0.1:9", retries=1, backoff=0.01, connect_timeout=1)
    with pytest.raises(ArbiterError) as err:
        client.health()
    assert err.value.status is None and "could not reach" in err.value.message


def test_a_response_missing_a_rollout_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"runId": "r1", "step": 0, "rewards": [], "summary": {}})

    client = ArbiterClient("http://arbiter.test", transport=httpx.MockTransport(handler))
    with pytest.raises(ArbiterError, match="lacks rewards"):
        client.score("r1", 0, ROLLOUTS[:1])


def test_bad_rollouts_are_refused_before_sending():
    client = ArbiterClient("http://arbiter.test")
    with pytest.raises(ValueError, match="lacks response"):
        client.score("r1", 0, [{"id": "a", "prompt": "p"}])
    with pytest.raises(ValueError, match="unique"):
        client.score("r1", 0, [ROLLOUTS[0], ROLLOUTS[0]])
    with pytest.raises(ValueError, match="step"):
        client.score("r1", -1, ROLLOUTS)


@pytest.mark.anyio
async def test_async_client_scores_and_retries_with_the_same_request_id(server):
    server.fake.script = [(500, {"error": "boom"})]
    async with AsyncArbiterClient(server.url, backoff=0.01) as client:
        rewards = await client.score("r1", 5, ROLLOUTS)
        assert await client.health() == {"ok": True}
    assert [r.reward for r in rewards] == [1.0, 0.25, None]
    posts = [r for r in server.fake.requests if r["method"] == "POST"]
    assert len(posts) == 2 and posts[0]["body"]["requestId"] == posts[1]["body"]["requestId"]


@pytest.mark.anyio
async def test_async_wrong_token_raises_arbiter_error(secured_server):
    client = AsyncArbiterClient(secured_server.url, token="nope")
    with pytest.raises(ArbiterError) as err:
        await client.score("r1", 0, ROLLOUTS)
    assert err.value.status == 401 and "bearer token" in err.value.message


def test_async_client_opens_a_new_pool_on_each_event_loop(server):
    import asyncio

    client = AsyncArbiterClient(server.url)
    asyncio.run(client.score("r1", 0, ROLLOUTS[:1]))
    first = client._http
    asyncio.run(client.score("r1", 1, ROLLOUTS[:1]))  # a closed loop's pool would fail here
    assert client._http is not first


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs os.fork")
def test_after_fork_the_child_makes_its_own_connections(server):
    client = client_for_process(server.url)
    client.score("r1", 0, ROLLOUTS[:1])
    parent_http = client._http
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report, never return into pytest
        code = 1
        try:
            child = client_for_process(server.url)
            fresh = child is not client
            child.score("r1", 1, ROLLOUTS[:1])
            client.score("r1", 2, ROLLOUTS[:1])  # the inherited client re-creates its pool too
            code = 0 if fresh and client._http is not parent_http else 2
        finally:
            os.write(write_end, bytes([code]))
            os._exit(code)
    os.close(write_end)
    result = os.read(read_end, 1)
    os.waitpid(pid, 0)
    assert result == bytes([0])
    assert client._http is parent_http  # the parent's pool is untouched and still works
    assert client.score("r1", 3, ROLLOUTS[:1])[0].reward == 1.0
    assert client_for_process(server.url) is client


def test_threads_share_one_client_and_one_connection_pool(server):
    from concurrent.futures import ThreadPoolExecutor

    client = fast(server.url)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: (client.score("r1", i, ROLLOUTS[:1]), client._http), range(16)))
    assert all(r[0][0].reward == 1.0 for r in results)
    assert len({id(r[1]) for r in results}) == 1
