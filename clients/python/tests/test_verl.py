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


# ---- verl's own call sites, restated from verl at b178a3cd5 (file and lines named) ----


def _load_like_verl(name):
    """verl/trainer/ppo/reward.py get_custom_reward_fn: load_extern_object(path, name), then
    partial(_call_with_kwargs, raw_fn, reward_kwargs), which calls raw_fn(*args, **{**kwargs, **reward_kwargs})."""
    import importlib.util

    import arbiter_client.verl as installed

    spec = importlib.util.spec_from_file_location("custom_module", installed.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_verls_reward_loop_naive_manager_scores_concurrent_samples(server):
    """verl/experimental/reward_loop/reward_manager/naive.py run_single (lines 35-99): one call per
    sample, a sync function run in the loop's default executor, keyword arguments with
    `num_turns` and `rollout_reward_scores` added to extra_info; a dict result must hold "score"
    and its keys become reward_extra_info; agent_loop.py (lines 774-777) then takes the first
    sample's keys for every sample."""
    import asyncio

    raw = _load_like_verl("compute_score")
    reward_kwargs = {"run_id": "r1", "base_url": server.url}

    def compute_score(*args, **kwargs):
        return raw(*args, **{**kwargs, **reward_kwargs})

    rows = [
        {"data_source": "legal", "solution_str": s, "ground_truth": "4", "extra_info": {"index": i, "prompt": "2+2?"}}
        for i, s in enumerate(["4", "EXCLUDE", "5", "4", "JUDGEFAIL", "4", "5", "4"])
    ]

    async def run_single(row):
        loop = asyncio.get_running_loop()
        extra_info = dict(row["extra_info"])
        extra_info["num_turns"] = 2
        extra_info["rollout_reward_scores"] = {}
        # A reward model's router, when one is configured, adds two more keyword arguments.
        extra_reward_kwargs = {"reward_router_address": None, "reward_model_tokenizer": None}
        result = await loop.run_in_executor(
            None,
            lambda: compute_score(
                data_source=row["data_source"],
                solution_str=row["solution_str"],
                ground_truth=row["ground_truth"],
                extra_info=extra_info,
                **extra_reward_kwargs,
            ),
        )
        reward_extra_info = {}
        if isinstance(result, dict):
            score = result["score"]
            for key, value in result.items():
                reward_extra_info[key] = value
        else:
            score = result
            reward_extra_info["acc"] = score
        return {"reward_score": score, "reward_extra_info": reward_extra_info}

    async def main():
        return await asyncio.gather(*(run_single(r) for r in rows))

    outs = asyncio.run(main())
    assert [o["reward_score"] for o in outs] == [1.0, 0.0, 0.25, 1.0, 0.0, 1.0, 0.25, 1.0]
    infos = [o["reward_extra_info"] for o in outs]
    keys = list(infos[0].keys())
    table = {key: [info[key] for info in infos] for key in keys}  # KeyError if a sample lacked a key
    assert table["arbiter_excluded"] == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert table["arbiter_fallback"] == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert all(isinstance(v, float) for column in table.values() for v in column)
    assert len(server.fake.requests) == 8


def test_verls_prime_manager_reads_a_number(server):
    """verl/workers/reward_manager/prime.py (lines 80-87): the function is called positionally
    (data_source, solution_str, ground_truth, extra_info) and its result read as
    float(result) for a number, else float(result[0]): compute_score's dict fails there
    (KeyError: 0), compute_score_value gives the number."""
    reward_kwargs = {"run_id": "r1", "base_url": server.url}

    def prime_reads(name):
        raw = _load_like_verl(name)
        result = raw("legal", "4", "4", {"prompt": "2+2?"}, **reward_kwargs)
        if isinstance(result, (int, float, bool)):
            return float(result)
        return float(result[0])

    assert prime_reads("compute_score_value") == 1.0
    with pytest.raises(KeyError):
        prime_reads("compute_score")
