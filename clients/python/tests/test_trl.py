"""The TRL reward function, called the way TRL's GRPOTrainer calls it:
`await f(prompts=..., completions=..., completion_ids=..., trainer_state=..., **dataset_columns)`,
plus `log_extra=`, `log_metric=` (and `environments=` when it has some) from TRL 1.0 on."""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from types import SimpleNamespace

import pytest

from arbiter_client import ArbiterError
from arbiter_client.trl import reward_func, sync_reward_func


def call(f, state=None, **kw):
    kw.setdefault("completion_ids", [[1, 2]] * len(kw["completions"]))
    return asyncio.run(f(trainer_state=state, **kw))


def test_is_an_async_function_with_a_name_trl_can_log(server):
    f = reward_func(run_id="r1", base_url=server.url)
    assert inspect.iscoroutinefunction(f)
    assert f.__name__ == "arbiter"
    assert reward_func(run_id="r1", base_url=server.url, name="judge").__name__ == "judge"
    assert asyncio.run(f(prompts=[], completions=[])) == []  # an empty batch sends nothing
    assert server.fake.requests == []


def test_plain_text_batch_scores_with_the_reference_column_and_global_step(server):
    f = reward_func(run_id="r1", base_url=server.url)
    out = call(
        f,
        SimpleNamespace(global_step=7),
        prompts=["2+2?", "2+2?", "3+3?"],
        completions=["4", "5", "6"],
        solution=["4", "4", "6"],
    )
    assert out == [1.0, 0.25, 1.0]
    sent = server.fake.requests[-1]
    # The run numbers its own steps; the trainer's step names the rollouts.
    assert sent["path"] == "/v1/runs/r1/rewards"
    rollouts = sent["body"]["rollouts"]
    assert all(r["id"].startswith("s7-") for r in rollouts)
    assert [r["reference"] for r in rollouts] == ["4", "4", "6"]
    assert rollouts[0]["group"] == rollouts[1]["group"] != rollouts[2]["group"]  # GRPO groups
    assert len({r["id"] for r in rollouts}) == 3


def test_excluded_and_fallback_samples_are_none_unless_fallbacks_are_asked_for(server):
    kw = dict(prompts=["p"] * 3, completions=["EXCLUDE", "JUDGEFAIL", "ok"], reference=["ok"] * 3)
    assert call(reward_func(run_id="r1", base_url=server.url), **kw) == [None, None, 1.0]
    with_fallbacks = reward_func(run_id="r1", base_url=server.url, include_fallbacks=True)
    assert call(with_fallbacks, **kw) == [None, 0.5, 1.0]


def test_conversational_prompts_and_completions_travel_as_messages(server):
    f = reward_func(run_id="r1", base_url=server.url)
    prompts = [
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "2+2?"}],
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "3+3?"}]}],
    ]
    completions = [
        [{"role": "assistant", "content": "4"}],
        [{"role": "assistant", "content": "6"}],
    ]
    out = call(f, SimpleNamespace(global_step=1), prompts=prompts, completions=completions, ground_truth=["4", "7"])
    assert out == [1.0, 0.25]
    rollouts = server.fake.requests[-1]["body"]["rollouts"]
    assert rollouts[0]["messages"] == prompts[0] + completions[0]
    assert "prompt" not in rollouts[0] and "response" not in rollouts[0]
    # Content becomes its text (the image placeholder is not sent).
    assert rollouts[1]["messages"] == [{"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]


def test_tool_calling_completions_keep_their_calls_and_results(server):
    f = reward_func(run_id="r1", base_url=server.url)
    call_ = {"type": "function", "function": {"name": "clause_lookup", "arguments": {"topic": "termination"}}}
    completion = [
        {"role": "assistant", "content": "", "tool_calls": [call_]},
        {"role": "tool", "name": "clause_lookup", "content": "Clause 14.2: 30 days notice."},
        {"role": "assistant", "content": "30 days"},
    ]
    out = call(f, SimpleNamespace(global_step=1), prompts=[[{"role": "user", "content": "Notice?"}]], completions=[completion], ground_truth=["30 days"])
    assert out == [1.0]
    (rollout,) = server.fake.requests[-1]["body"]["rollouts"]
    assert rollout["messages"][1] == {"role": "assistant", "content": "", "tool_calls": [call_]}
    assert rollout["messages"][2] == {"role": "tool", "content": "Clause 14.2: 30 days notice.", "name": "clause_lookup"}


def test_a_conversation_not_ending_with_the_answer_is_sent_as_text(server):
    f = reward_func(run_id="r1", base_url=server.url)
    completion = [{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "t", "arguments": "{}"}}]}, {"role": "tool", "content": "x"}]
    call(f, SimpleNamespace(global_step=1), prompts=["Q"], completions=[completion])
    (rollout,) = server.fake.requests[-1]["body"]["rollouts"]
    assert "messages" not in rollout and rollout["prompt"] == "Q"


def test_without_trainer_state_steps_come_from_a_counter(server):
    f = reward_func(run_id="r1", base_url=server.url)
    call(f, prompts=["p"], completions=["a"])
    call(f, prompts=["p"], completions=["a"])
    ids = [r["body"]["rollouts"][0]["id"] for r in server.fake.requests]
    assert [i.split("-")[0] for i in ids] == ["s0", "s1"]


def test_two_calls_in_one_step_send_disjoint_rollout_ids(server):
    f = reward_func(run_id="r1", base_url=server.url)
    state = SimpleNamespace(global_step=4)
    call(f, state, prompts=["p"], completions=["a"])
    call(f, state, prompts=["p"], completions=["a"])
    first, second = (r["body"]["rollouts"][0]["id"] for r in server.fake.requests)
    assert first != second


def test_service_errors_raise_by_default_or_give_none_when_asked(secured_server):
    kw = dict(prompts=["p", "q"], completions=["a", "b"])
    with pytest.raises(ArbiterError) as err:
        call(reward_func(run_id="r1", base_url=secured_server.url), **kw)
    assert err.value.status == 401
    lenient = reward_func(run_id="r1", base_url=secured_server.url, on_error="none")
    assert call(lenient, **kw) == [None, None]


def test_run_id_is_required(monkeypatch):
    with pytest.raises(ValueError, match="run_id"):
        reward_func()
    monkeypatch.setenv("ARBITER_RUN_ID", "r9")
    assert reward_func().__name__ == "arbiter"


class TrlLogs:
    """GRPOTrainer's _log_completion_extra and _log_metric (trl/trainer/grpo_trainer.py at f2cd57710,
    lines 1586-1609): a column's values extend a per-column list, a metric's value is appended and
    averaged per logging step."""

    def __init__(self):
        self.extra = defaultdict(list)
        self.metrics = defaultdict(list)

    def log_extra(self, column, values):
        self.extra[column].extend(values)

    def log_metric(self, name, value):
        self.metrics[name].append(value)


@pytest.mark.parametrize("make", [reward_func, sync_reward_func])
def test_logs_a_status_column_and_rates_when_trl_passes_log_extra_and_log_metric(server, make):
    f = make(run_id="r1", base_url=server.url)
    logs = TrlLogs()
    kw = dict(
        prompts=["p"] * 4,
        completions=["EXCLUDE", "JUDGEFAIL", "ok", "no"],
        completion_ids=[[1]] * 4,
        reference=["ok"] * 4,
        trainer_state=SimpleNamespace(global_step=2),
        log_extra=logs.log_extra,
        log_metric=logs.log_metric,
        environments=[object()] * 4,  # TRL passes its environment instances when it has some
    )
    out = f(**kw)
    out = asyncio.run(out) if inspect.isawaitable(out) else out
    assert out == [None, None, 1.0, 0.25]
    assert logs.extra == {
        "arbiter_status": ["excluded", "fallback", "scored", "scored"],
        "arbiter_flags": ["safety_veto", "judge_failed", "", ""],
    }
    assert logs.metrics == {
        "arbiter/fallback_rate": [0.25],
        "arbiter/excluded_rate": [0.25],
        "arbiter/refused_rate": [0.0],
        "arbiter/error_rate": [0.0],
    }
    # Neither the callables nor the environments reach the service: only the reference is read.
    (sent,) = server.fake.requests
    assert set(sent["body"]) == {"rollouts", "requestId"}
    assert all(set(r) == {"id", "group", "prompt", "response", "reference"} for r in sent["body"]["rollouts"])


def test_a_failed_request_logs_every_sample_as_error_so_the_table_stays_aligned(secured_server):
    logs = TrlLogs()
    f = reward_func(run_id="r1", base_url=secured_server.url, on_error="none", name="judge")
    out = call(f, prompts=["p", "q"], completions=["a", "b"], log_extra=logs.log_extra, log_metric=logs.log_metric)
    assert out == [None, None]
    assert logs.extra == {"judge_status": ["error", "error"], "judge_flags": ["", ""]}
    assert logs.metrics["judge/error_rate"] == [1.0] and logs.metrics["judge/fallback_rate"] == [0.0]


def test_runs_on_a_loop_in_another_thread_like_trls_async_reward_loop(server):
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        f = reward_func(run_id="r1", base_url=server.url)
        for step in range(2):
            fut = asyncio.run_coroutine_threadsafe(
                f(prompts=["p"], completions=["x"], reference=["x"], trainer_state=SimpleNamespace(global_step=step)),
                loop,
            )
            assert fut.result(timeout=10) == [1.0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_sync_variant_for_trainers_that_do_not_await(server):
    f = sync_reward_func(run_id="r1", base_url=server.url)
    assert not inspect.iscoroutinefunction(f)
    assert f(prompts=["p"], completions=["x"], reference=["x"], trainer_state=None) == [1.0]
