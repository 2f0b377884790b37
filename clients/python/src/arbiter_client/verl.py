"""verl reward functions backed by Arbiter.

verl loads a custom reward function from `custom_reward_function.path` / `.name`
(`verl/trainer/ppo/reward.py`) and calls it with keyword arguments, merging
`custom_reward_function.reward_kwargs` in:

- the reward loop (verl's default since `reward_model.use_reward_loop: true`; managers `naive`,
  `dapo`, `rate_limited`, `remote`), once per sample, concurrently from a thread pool, as soon as
  each sample's rollout is done:
  `compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)`;
- the legacy `reward_model.reward_manager=batch` (with `reward_model.use_reward_loop=False`),
  once per batch: `compute_score_batch(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...)`;
- the legacy `prime` manager, positionally in a process pool, reading `float(result)`:
  `compute_score_value` (the score alone, a float).

`compute_score` and `compute_score_batch` return a dict with the reward under "score" (verl
writes it at the response's last token and logs the other keys as reward extra info). verl has no
way to skip a sample, so an excluded sample (and a judge failure, unless
`include_fallbacks=True`) gets `excluded_score` (0.0 unless set), with `arbiter_excluded` /
`arbiter_fallback` set to 1.0 so the rate shows in verl's metrics. Every dict has the same keys,
as verl's aggregation needs (it takes the keys of the first sample's dict for all).

verl hands the reward function no prompt argument. When its agent loop scores each sample (the
reward loop's default) `extra_info` carries the dataset's prompt messages anyway, as "raw_prompt"
(`agent_loop.py` `_agent_loop_postprocess` puts them in the sample's extra fields; the `naive`,
`rate_limited` and `remote` managers, not `dapo`, merge those into `extra_info`, and add
"num_turns"). Then the rollout goes as `messages`: those turns (system, user, ...) and one
assistant message holding `solution_str`, which for a multi-turn agent is the whole response
decoded as one text (the assistant's turns and the tool results between them, special tokens
removed). Prompt messages under "prompt" count too; a text prompt under "prompt" or "question"
is sent as the prompt; without any, the prompt is empty. The step comes from `extra_info` ("arbiter_step", "global_step", "global_steps" or
"step") when present, else from a per-process counter. The run numbers its own steps, merging
concurrent calls, so the reward loop's many concurrent one-sample calls share steps.

verl loads the file by path (`custom_reward_function.path`) as a module of its own, so this file
imports the package absolutely: it works from that path as long as the package is installed.

Clients are one per process, created on first use and re-created after a fork (Ray and
multiprocessing reward workers fork).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence

from arbiter_client._client import Reward, reward_value
from arbiter_client._process import client_for_process
from arbiter_client._rollouts import content_text, is_messages, prompt_text, reference_text, trajectory

STEP_KEYS = ("arbiter_step", "global_step", "global_steps", "step")
PROMPT_KEYS = ("prompt", "question")
# Where extra_info may hold the prompt as chat messages: the agent loop's copy first.
MESSAGE_KEYS = ("raw_prompt", "prompt")

_counter_lock = threading.Lock()
_counter = {"pid": -1, "step": 0, "call": 0}


def _next(name: str) -> int:
    """Per-process counters ("step" for runs without a step, "call" for unique rollout ids)."""
    with _counter_lock:
        if _counter["pid"] != os.getpid():
            _counter.update(pid=os.getpid(), step=0, call=0)
        value = _counter[name]
        _counter[name] += 1
        return value


def _step_from(extra_info: Any) -> Optional[int]:
    if isinstance(extra_info, Mapping):
        for key in STEP_KEYS:
            value = extra_info.get(key)
            if value is not None and not isinstance(value, bool):
                try:
                    return int(value)
                except (TypeError, ValueError):
                    continue
    return None


def _run_id(run_id: Optional[str]) -> str:
    run = run_id or os.environ.get("ARBITER_RUN_ID")
    if not run:
        raise ValueError(
            "set custom_reward_function.reward_kwargs.run_id (or ARBITER_RUN_ID in the environment)"
        )
    return run


def _prompt_messages(info: Mapping[str, Any]) -> Optional[List[Any]]:
    """The prompt as chat messages, when extra_info holds it that way."""
    for key in MESSAGE_KEYS:
        value = info.get(key)
        # verl's non-tensor batch holds numpy object arrays; numpy is not imported for that.
        if hasattr(value, "tolist"):
            value = value.tolist()
        if value and is_messages(value):
            return list(value)
    return None


def _rollout(i: int, tag: str, solution: Any, truth: Any, extra: Any) -> Dict[str, Any]:
    info = extra if isinstance(extra, Mapping) else {}
    rollout: Dict[str, Any] = {"id": f"{tag}-{i}"}
    # The prompt's turns as turns, so the judge tells the system prompt from the user's request.
    messages = trajectory(_prompt_messages(info), content_text(solution))
    if messages is not None:
        rollout["messages"] = messages
    else:
        prompt = next((info[k] for k in PROMPT_KEYS if info.get(k) is not None), "")
        rollout.update(prompt=prompt_text(prompt), response=content_text(solution))
    ref = reference_text(truth)
    if ref is not None:
        rollout["reference"] = ref
    if info.get("index") is not None:  # verl samples n responses per dataset row: one group
        rollout["group"] = str(info["index"])
    return rollout


def _result(reward: Reward, include_fallbacks: bool, excluded_score: float) -> Dict[str, float]:
    value = reward_value(reward, include_fallbacks)
    return {
        "score": excluded_score if value is None else value,
        "arbiter_fallback": 1.0 if reward.status == "fallback" else 0.0,
        "arbiter_excluded": 1.0 if reward.status == "excluded" else 0.0,
    }


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[Any],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Any]] = None,
    *,
    run_id: Optional[str] = None,
    base_url: Optional[str] = None,
    token: Optional[str] = None,
    include_fallbacks: bool = False,
    excluded_score: float = 0.0,
    step: Optional[int] = None,
    **kwargs: Any,
) -> List[Dict[str, float]]:
    """verl's batch reward manager entry point: one request to Arbiter per batch."""
    run = _run_id(run_id)
    n = len(solution_strs)
    extras = list(extra_infos) if extra_infos is not None else [None] * n
    if not (len(ground_truths) == len(extras) == n):
        raise ValueError("solution_strs, ground_truths and extra_infos differ in length")
    if step is None:
        step = next((s for s in map(_step_from, extras) if s is not None), None)
    if step is None:
        step = _next("step")
    # verl's step names the rollouts; the run numbers its own steps, merging concurrent calls.
    tag = f"s{step}-p{os.getpid()}-c{_next('call')}"
    rollouts = [
        _rollout(i, tag, s, t, e) for i, (s, t, e) in enumerate(zip(solution_strs, ground_truths, extras))
    ]
    rewards = client_for_process(base_url, token).score(run, None, rollouts)
    return [_result(r, include_fallbacks, excluded_score) for r in rewards]


def compute_score(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    run_id: Optional[str] = None,
    base_url: Optional[str] = None,
    token: Optional[str] = None,
    include_fallbacks: bool = False,
    excluded_score: float = 0.0,
    **kwargs: Any,
) -> Dict[str, float]:
    """verl's per-sample reward function signature; one request per call."""
    step = _step_from(extra_info)
    return compute_score_batch(
        [data_source],
        [solution_str],
        [ground_truth],
        [extra_info],
        run_id=run_id,
        base_url=base_url,
        token=token,
        include_fallbacks=include_fallbacks,
        excluded_score=excluded_score,
        step=step if step is not None else _next("step"),
    )[0]


def compute_score_value(*args: Any, **kwargs: Any) -> float:
    """The score alone, for verl managers that read a number (`prime`: `float(result)`); the
    arguments are `compute_score`'s."""
    return compute_score(*args, **kwargs)["score"]
