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


class ObjectArray:
    """What a numpy object array offers here: indexing, len and tolist(), and no Sequence."""

    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    def tolist(self):
        return list(self.items)


SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]


class Tokenizer:
    """A stand-in that keeps Qwen's special tokens as tokens and drops them when decoding with
    skip_special_tokens=True, as Hugging Face's does; every other character is a token."""

    def __init__(self):
        self.pieces = ["<|endoftext|>"]  # id 0: the pad token

    def encode(self, text):
        ids, i = [], 0
        while i < len(text):
            piece = next((s for s in SPECIAL if text.startswith(s, i)), text[i])
            if piece not in self.pieces:
                self.pieces.append(piece)
            ids.append(self.pieces.index(piece))
            i += len(piece)
        return ids

    def decode(self, ids, skip_special_tokens=False):
        return "".join(p for p in (self.pieces[i] for i in ids) if not (skip_special_tokens and p in SPECIAL))


@pytest.mark.parametrize("as_array", [False, True], ids=["list", "object-array"])
def test_verls_agent_loop_sends_the_prompt_turns_and_the_multi_turn_response(server, as_array):
    """verl at b178a3cd5, a tool-calling sample on the agent-loop path:
    verl/utils/dataset/rl_dataset.py RLHFDataset.__getitem__ (lines 341-360) keeps the row's
    prompt messages as "raw_prompt"; agent_loop.py generate_sequences (line 475) hands each
    sample's non-tensor fields to the loop as kwargs; _agent_loop_postprocess (line 523) copies
    kwargs["raw_prompt"] into output.extra_fields; tool_agent_loop.py (lines 204-208) counts
    num_turns = user_turns + assistant_turns + 1 (a tool response is a user turn) and adds
    turn_scores and tool_rewards; _compute_score (lines 701-726) sends them as "tool_extra_fields"
    and "__num_turns__"; reward_manager/naive.py run_single (lines 34-99) merges the extra fields
    into extra_info, sets extra_info["num_turns"], and decodes the whole response (assistant turns
    and tool results, Qwen's chat format) with skip_special_tokens=True as solution_str."""
    import asyncio

    raw = _load_like_verl("compute_score")
    reward_kwargs = {"run_id": "r1", "base_url": server.url}
    calls = []

    def compute_score(*args, **kwargs):
        calls.append(kwargs)
        return raw(*args, **{**kwargs, **reward_kwargs})

    messages = [
        {"role": "system", "content": "You are a contracts assistant. Use the clause_lookup tool."},
        {"role": "user", "content": "Can the supplier terminate without notice?"},
    ]
    # RLHFDataset gives a list; verl's non-tensor fields are numpy object arrays, and a prompt
    # that arrives as one (another dataset class, another path) has tolist().
    raw_prompt = ObjectArray(messages) if as_array else messages
    # The sample's non-tensor fields: the dataset row as __getitem__ returns it.
    sample = {
        "data_source": "legal",
        "reward_model": {"ground_truth": "30 days"},
        "extra_info": {"index": 7, "split": "train"},
        "raw_prompt": raw_prompt,
        "index": 7,
        "tools_kwargs": {},
        "interaction_kwargs": {},
    }
    # The model's turns and the tool's answer between them, as the tool agent loop appends them.
    response = (
        '<tool_call>\n{"name": "clause_lookup", "arguments": {"topic": "termination"}}\n</tool_call><|im_end|>\n'
        "<|im_start|>user\n<tool_response>\nClause 14.2: 30 days notice.\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\nNo: clause 14.2 requires 30 days notice.<|im_end|>"
    )
    tokenizer = Tokenizer()
    response_ids = tokenizer.encode(response)
    padded = response_ids + [0] * 5  # right padding to the batch's response length
    response_mask = [1] * len(response_ids) + [0] * 5

    async def run_single():
        # generate_sequences, the tool agent loop, _agent_loop_postprocess, _compute_score
        # (np.array([v]) and then data[0] give each value back as it was)
        kwargs = dict(sample)
        extra_fields = {"turn_scores": [], "tool_rewards": []}
        extra_fields["raw_prompt"] = kwargs["raw_prompt"]
        num_turns = 1 + 2 + 1  # one tool response (a user turn), two assistant turns, + 1
        non_tensor = {**kwargs, "__num_turns__": num_turns, "tool_extra_fields": extra_fields}
        # run_single
        valid_response_ids = padded[: sum(response_mask)]
        data_source = non_tensor["data_source"]
        ground_truth = non_tensor["reward_model"]["ground_truth"]
        extra_info = non_tensor.get("extra_info", {})
        tool_extra_fields = non_tensor.get("tool_extra_fields", None)
        if tool_extra_fields is not None:
            extra_info.update(tool_extra_fields.items())
        extra_info["num_turns"] = non_tensor.get("__num_turns__", None)
        extra_info["rollout_reward_scores"] = non_tensor.get("reward_scores", {})
        loop = asyncio.get_running_loop()
        response_str = await loop.run_in_executor(None, lambda: tokenizer.decode(valid_response_ids, skip_special_tokens=True))
        return await loop.run_in_executor(
            None,
            lambda: compute_score(data_source=data_source, solution_str=response_str, ground_truth=ground_truth, extra_info=extra_info),
        )

    out = asyncio.run(run_single())
    assert set(out) == KEYS
    (call,) = calls
    assert call["extra_info"]["num_turns"] == 4 and call["extra_info"]["raw_prompt"] is raw_prompt
    (rollout,) = server.fake.requests[-1]["body"]["rollouts"]
    assert set(rollout) == {"id", "messages", "reference", "group"}
    assert rollout["group"] == "7" and rollout["reference"] == "30 days"
    # The judge sees the system and user turns as turns, and the agent's whole multi-turn
    # response (its tool call, the tool's result, its answer) as one assistant message.
    assert rollout["messages"][:2] == messages
    assert rollout["messages"][2] == {
        "role": "assistant",
        "content": '<tool_call>\n{"name": "clause_lookup", "arguments": {"topic": "termination"}}\n</tool_call>\n'
        "user\n<tool_response>\nClause 14.2: 30 days notice.\n</tool_response>\n"
        "assistant\nNo: clause 14.2 requires 30 days notice.",
    }
    assert len(rollout["messages"]) == 3


def test_prompt_messages_under_prompt_are_sent_as_turns_and_a_text_prompt_stays_text(server):
    kw = dict(run_id="r1", base_url=server.url)
    turns = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}]
    compute_score("s", "4", "4", {"prompt": turns}, **kw)
    (rollout,) = server.fake.requests[-1]["body"]["rollouts"]
    assert rollout["messages"] == turns + [{"role": "assistant", "content": "4"}]
    compute_score("s", "4", "4", {"prompt": "2+2?", "raw_prompt": []}, **kw)
    (rollout,) = server.fake.requests[-1]["body"]["rollouts"]
    assert rollout["prompt"] == "2+2?" and rollout["response"] == "4" and "messages" not in rollout
