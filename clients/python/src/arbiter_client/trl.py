"""A TRL reward function backed by Arbiter.

    from arbiter_client.trl import reward_func
    trainer = GRPOTrainer(model=..., reward_funcs=[reward_func(run_id="run-42")], ...)

TRL (GRPOTrainer, RLOOTrainer) calls each reward function with keyword arguments
`prompts=..., completions=..., completion_ids=..., trainer_state=..., **dataset_columns`, one value
per completion in every list, and awaits it when `inspect.iscoroutinefunction` says so (TRL runs
async reward functions on an event loop of its own, in parallel with the others). A `None` in the
returned list means "no reward from this function for this sample": TRL turns it into NaN and
leaves the sample to the other reward functions.

Each call becomes one request to the service, for the step `trainer_state.global_step` (or an
internal counter when there is no trainer state). Several calls in the same step (gradient
accumulation, several processes, `steps_per_generation > 1`) send disjoint rollout ids, so the
service sees parts of one step.

TRL >= 1.0 also passes `log_extra(column, values)` (a column of the completions table) and
`log_metric(name, value)` (a scalar averaged per logging step). When they are there, each call
logs `<name>_status` ("scored", "fallback", "excluded", "refused", or "error" for a failed request
under `on_error="none"`) and `<name>_flags` per sample, and `<name>/fallback_rate`,
`<name>/excluded_rate`, `<name>/refused_rate` and `<name>/error_rate` for the batch. Older TRL
does not pass them and nothing is logged. Only the reference column is read from the dataset
columns: the logging callables and `environments` are never sent.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from arbiter_client._client import ArbiterClient, ArbiterError, AsyncArbiterClient, Reward, reward_value
from arbiter_client._rollouts import trajectory, completion_text, prompt_text, reference_text

log = logging.getLogger("arbiter_client.trl")

# Dataset columns TRL users name their reference answer by, in order of preference.
REFERENCE_COLUMNS = ("reference", "solution", "ground_truth", "answer")


class _Steps:
    """Step numbers and per-call rollout-id prefixes for one reward function."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self._calls: Dict[int, int] = {}

    def next(self, trainer_state: Any) -> Tuple[int, str]:
        step = getattr(trainer_state, "global_step", None)
        with self._lock:
            if not isinstance(step, int):
                step = self._counter
                self._counter += 1
            call = self._calls.get(step, 0)
            self._calls = {step: call + 1}  # only the current step's count is ever needed
        rank = os.environ.get("RANK", "0")
        # The trainer's step names the rollouts; the run numbers its own steps (a trainer may
        # call a reward function several times per step, and every call must be answered).
        return step, f"s{step}-r{rank}-c{call}"


def _rollouts(
    prefix: str,
    prompts: Sequence[Any],
    completions: Sequence[Any],
    columns: Mapping[str, Any],
    reference_columns: Sequence[str],
) -> List[Dict[str, Any]]:
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
    refs: Optional[Sequence[Any]] = None
    for name in reference_columns:
        value = columns.get(name)
        if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == len(prompts):
            refs = value
            break
    groups: Dict[str, str] = {}
    out = []
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        text = prompt_text(prompt)
        # GRPO repeats each prompt num_generations times: completions of one prompt are a group.
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
        group = groups.setdefault(digest, f"{prefix}-g{len(groups)}")
        rollout: Dict[str, Any] = {"id": f"{prefix}-{i}", "group": group}
        # Conversational samples travel as messages: the judge sees the turns and tool calls.
        messages = trajectory(prompt, completion)
        if messages is not None:
            rollout["messages"] = messages
        else:
            rollout.update(prompt=text, response=completion_text(completion))
        ref = reference_text(refs[i]) if refs is not None else None
        if ref is not None:
            rollout["reference"] = ref
        out.append(rollout)
    return out


class _Plan:
    """What the async and the blocking reward function share: checks, steps, rollouts, results."""

    def __init__(
        self,
        run_id: Optional[str],
        include_fallbacks: bool,
        on_error: str,
        reference_columns: Sequence[str],
        name: str,
    ) -> None:
        run = run_id or os.environ.get("ARBITER_RUN_ID")
        if not run:
            raise ValueError("reward_func needs run_id (or ARBITER_RUN_ID in the environment)")
        if on_error not in ("raise", "none"):
            raise ValueError("on_error must be 'raise' or 'none'")
        self.run = run
        self.include_fallbacks = include_fallbacks
        self.on_error = on_error
        self.reference_columns = reference_columns
        self.name = name
        self.steps = _Steps()

    def rollouts(
        self, trainer_state: Any, prompts: Sequence[Any], completions: Sequence[Any], columns: Mapping[str, Any]
    ) -> Tuple[int, List[Dict[str, Any]]]:
        step, prefix = self.steps.next(trainer_state)
        return step, _rollouts(prefix, prompts, completions, columns, self.reference_columns)

    def failed(self, step: int, error: ArbiterError) -> None:
        if self.on_error == "raise":
            raise error
        log.warning("Arbiter run %s step %s: no rewards (%s)", self.run, step, error)

    def finish(
        self, rewards: Optional[List[Reward]], n: int, log_extra: Any, log_metric: Any
    ) -> List[Optional[float]]:
        # A request that failed (on_error="none") has no rewards: its samples' status is "error".
        statuses = [r.status for r in rewards] if rewards else ["error"] * n
        if n and callable(log_extra):
            # One value per sample on every call, a failed one too: TRL builds its completions
            # table from these columns, and a short column would misalign (or break) it.
            log_extra(f"{self.name}_status", statuses)
            log_extra(f"{self.name}_flags", [_why(r) for r in rewards] if rewards else [""] * n)
        if n and callable(log_metric):
            for status in RATES:
                log_metric(f"{self.name}/{status}_rate", statuses.count(status) / n)
        return [reward_value(r, self.include_fallbacks) for r in rewards] if rewards else [None] * n


# The statuses whose share of each batch is logged as a metric.
RATES = ("fallback", "excluded", "refused", "error")


def _why(reward: Reward) -> str:
    """The flags (and a refusal's reason) as one completions-table cell."""
    return ", ".join(reward.flags + ([reward.reason] if reward.reason else []))


def reward_func(
    run_id: Optional[str] = None,
    *,
    client: Optional[AsyncArbiterClient] = None,
    base_url: Optional[str] = None,
    token: Optional[str] = None,
    include_fallbacks: bool = False,
    on_error: str = "raise",
    reference_columns: Sequence[str] = REFERENCE_COLUMNS,
    name: str = "arbiter",
    **client_options: Any,
) -> Callable[..., Any]:
    """An async TRL reward function that scores each batch with the Arbiter run `run_id`.

    Returns one value per completion: the reward, or None for an `excluded` sample and for a
    `fallback` (judge failed) sample unless `include_fallbacks=True`.
    `on_error="raise"` (default) lets a request that failed after all retries stop training;
    `on_error="none"` logs it and returns None for the whole batch instead.
    The reference answer comes from the first of `reference_columns` the dataset has.
    `name` names the function in TRL's logs, and the columns and metrics it logs there.
    """
    plan = _Plan(run_id, include_fallbacks, on_error, reference_columns, name)
    arbiter = client or AsyncArbiterClient(base_url, token, **client_options)

    async def arbiter_reward(
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Any = None,
        trainer_state: Any = None,
        log_extra: Any = None,
        log_metric: Any = None,
        **columns: Any,
    ) -> List[Optional[float]]:
        step, rollouts = plan.rollouts(trainer_state, prompts, completions, columns)
        try:
            rewards = await arbiter.score(plan.run, None, rollouts)
        except ArbiterError as e:
            rewards = plan.failed(step, e)
        return plan.finish(rewards, len(rollouts), log_extra, log_metric)

    arbiter_reward.__name__ = arbiter_reward.__qualname__ = name
    arbiter_reward.client = arbiter  # type: ignore[attr-defined]
    return arbiter_reward


def sync_reward_func(
    run_id: Optional[str] = None,
    *,
    client: Optional[ArbiterClient] = None,
    base_url: Optional[str] = None,
    token: Optional[str] = None,
    include_fallbacks: bool = False,
    on_error: str = "raise",
    reference_columns: Sequence[str] = REFERENCE_COLUMNS,
    name: str = "arbiter",
    **client_options: Any,
) -> Callable[..., Any]:
    """The same reward function, blocking: for TRL versions that do not await reward functions."""
    plan = _Plan(run_id, include_fallbacks, on_error, reference_columns, name)
    arbiter = client or ArbiterClient(base_url, token, **client_options)

    def arbiter_reward(
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Any = None,
        trainer_state: Any = None,
        log_extra: Any = None,
        log_metric: Any = None,
        **columns: Any,
    ) -> List[Optional[float]]:
        step, rollouts = plan.rollouts(trainer_state, prompts, completions, columns)
        try:
            rewards = arbiter.score(plan.run, None, rollouts)
        except ArbiterError as e:
            rewards = plan.failed(step, e)
        return plan.finish(rewards, len(rollouts), log_extra, log_metric)

    arbiter_reward.__name__ = arbiter_reward.__qualname__ = name
    arbiter_reward.client = arbiter  # type: ignore[attr-defined]
    return arbiter_reward
