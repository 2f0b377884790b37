"""Python client for Arbiter's durable reward service (`arbiter serve`).

- `ArbiterClient` / `AsyncArbiterClient`: the native API (create_run, score, health, ready).
- `arbiter_client.trl.reward_func`: an async TRL reward function.
- `arbiter_client.verl.compute_score` / `compute_score_batch`: verl custom reward functions.
"""

from ._client import (
    DEFAULT_URL,
    ArbiterClient,
    ArbiterError,
    AsyncArbiterClient,
    Reward,
    reward_value,
)
from ._process import client_for_process

__all__ = [
    "DEFAULT_URL",
    "ArbiterClient",
    "ArbiterError",
    "AsyncArbiterClient",
    "Reward",
    "client_for_process",
    "reward_value",
]
__version__ = "0.1.0"
