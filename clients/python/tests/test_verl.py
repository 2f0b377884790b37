"""verl's custom reward functions, called the way verl's reward managers call them: keyword
arguments, with `custom_reward_function.reward_kwargs` merged in."""

from __future__ import annotations

import inspect
import os
import sys

import pytest

from arbiter_client.verl import compute_score, compute_score_batch

KEYS = {"score", "arbiter_fallback", "arbiter_excluded"}


def test_signature_matches_verls_default_compute_score():
    params = list(inspect.signature(compute_score).parameters)
    assert params[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
    assert inspect.signature(compute_score).parameters["extra_info"].default is None


def test_per_sample_call_returns_a_dict_with_the_score(server):
    out = compute_score(
        data_source="openai/gsm8k",
        solution_str="4",
        ground_truth="4",
        extra_info={"index": 3, "question": "2+2?", "global_step": 12},
        run_id="r1",
        base_url=server.url,
    )
    assert out == {"score": 1.0, "arbiter_fallback": 0.0, "arbiter_excluded": 0.0}
    sent = server.fake.requests[-1]
    assert sent["path"] == "/v1/runs/r1/rewards"
    (rollout,) = sent["body"]["rollouts"]
    assert rollout["id"].startswith("s12-")
    assert rollout["prompt"] == "2+2?" and rollout["reference"] == "4" and rollout["group"] == "3"


def test_extra_info_may_be_none_and_steps_then_come_from_a_counter(server):
    compute_score("src", "a", "b", None, run_id="r1", base_url=server.url)
    compute_score("src", "a", "b", None, run_id="r1", base_url=server.url)
    s1, s2 = (int(r["body"]["rollouts"][0]["id"].split("-")[0][1:]) for r in server.fake.requests)
    assert s2 == s1 + 1


def test_samples_of_one_step_get_distinct_rollout_ids(server):
    for _ in range(2):
        compute_score("src", "a", "a", {"index": 0, "step": 2}, run_id="r1", base_url=server.url)
    ids = [r["body"]["rollouts"][0]["id"] for r in server.fake.requests]
    assert ids[0] != ids[1]


def test_excluded_and_fallback_give_the_excluded_score_and_flag_it(server):
    kw = dict(run_id="r1", base_url=server.url)
    assert compute_score("s", "EXCLUDE", "x", **kw) == {"score": 0.0, "arbiter_fallback": 0.0, "arbiter_excluded": 1.0}
    assert compute_score("s", "JUDGEFAIL", "x", excluded_score=-1.0, **kw)["score"] == -1.0
    assert compute_score("s", "JUDGEFAIL", "x", include_fallbacks=True, **kw) == {
        "score": 0.5,
        "arbiter_fallback": 1.0,
        "arbiter_excluded": 0.0,
    }


def test_batch_call_is_one_request_and_every_dict_has_the_same_keys(server):
    out = compute_score_batch(
        data_sources=["a", "a", "a"],
        solution_strs=["4", "EXCLUDE", "5"],
        ground_truths=["4", "4", {"answer": 4}],
        extra_infos=[{"prompt": "2+2?", "index": 0}] * 3,
        run_id="r1",
        base_url=server.url,
    )
    assert [o["score"] for o in out] == [1.0, 0.0, 0.25]
    assert all(set(o) == KEYS for o in out)
    assert len(server.fake.requests) == 1
    assert server.fake.requests[0]["body"]["rollouts"][2]["reference"] == '{"answer": 4}'


def test_run_id_can_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ARBITER_RUN_ID", "r1")
    monkeypatch.setenv("ARBITER_URL", server.url)
    assert compute_score("s", "x", "x")["score"] == 1.0
    monkeypatch.delenv("ARBITER_RUN_ID")
    with pytest.raises(ValueError, match="run_id"):
        compute_score("s", "x", "x")


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs os.fork")
def test_a_forked_reward_worker_scores_through_its_own_client(server):
    from arbiter_client import client_for_process

    assert compute_score("s", "x", "x", run_id="r1", base_url=server.url)["score"] == 1.0
    parent = client_for_process(server.url)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            ok = compute_score("s", "x", "x", run_id="r1", base_url=server.url)["score"] == 1.0
            code = 0 if ok and client_for_process(server.url) is not parent else 2
        finally:
            os.write(write_end, bytes([code]))
            os._exit(code)
    os.close(write_end)
    result = os.read(read_end, 1)
    os.waitpid(pid, 0)
    assert result == bytes([0])
    assert compute_score("s", "x", "x", run_id="r1", base_url=server.url)["score"] == 1.0
    assert client_for_process(server.url) is parent


def test_loads_by_file_path_the_way_verl_loads_a_custom_reward_function(server):
    import importlib.util

    import arbiter_client.verl as installed

    # verl: spec_from_file_location("custom_module", path), then getattr(module, name) called with
    # the batch manager's keyword arguments and custom_reward_function.reward_kwargs merged in.
    spec = importlib.util.spec_from_file_location("custom_module", installed.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, "compute_score_batch")
    reward_kwargs = {"run_id": "r1", "base_url": server.url}
    out = fn(data_sources=["a"], solution_strs=["x"], ground_truths=["x"], extra_infos=[{"prompt": "p"}], **reward_kwargs)
    assert out[0]["score"] == 1.0
