#!/usr/bin/env python3
"""A closed-loop trainer that really learns from `arbiter serve`, on a CPU, in seconds.

The "model" is a softmax policy over a fixed menu of candidate answers for each of four
contract-clause prompts (the clauses of examples/contracts). Each step it samples a group of
answers per prompt, sends them to the reward service, and moves its logits with REINFORCE and a
group-mean baseline (GRPO-style advantages: each rollout's `group` is its prompt). Samples whose
reward is None (excluded by the run) are never trained on.

No numpy, no torch: only the standard library and `arbiter_client` (pip install ./clients/python).

    python examples/trainer/train.py --run-id demo-train

prints `step N  mean reward X.XXX` per step and, last, one JSON line `{"curve": [...]}`.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from typing import Dict, List, Optional

from arbiter_client import ArbiterClient

ASK = "Flag the legal risk of this contract clause for the customer and say why, in two sentences.\n\nClause: "

# Four clauses of examples/contracts, each with its reference and six candidate answers: some flag
# the risk the way the reference does, some answer beside the point, one is empty. Which is which
# is for the reward service to say; the trainer never looks at this ordering.
PROMPTS: List[Dict[str, object]] = [
    {
        "id": "c0",
        "clause": "The Supplier may terminate this Agreement at any time, for any reason, without notice.",
        "reference": "High risk: the supplier can terminate at will without notice, leaving the customer with no continuity or time to find a replacement.",
        "candidates": [
            "This clause looks standard and fine.",
            "",
            "High risk: the supplier may terminate at any time without notice, so the customer has no continuity of service. Negotiate a notice period and termination only for cause.",
            "The Supplier may terminate this Agreement whenever it likes.",
            "Contracts are usually written by lawyers.",
            "High risk: the supplier can end the agreement at will and without notice, leaving the customer no time to find a replacement.",
        ],
    },
    {
        "id": "c1",
        "clause": "The Customer shall indemnify the Supplier against all claims, losses and damages of any kind, including those caused by the Supplier's own negligence.",
        "reference": "High risk: the customer indemnifies the supplier even for the supplier's own negligence, an uncapped and one-sided obligation.",
        "candidates": [
            "Indemnity clauses protect both parties equally, so there is no risk.",
            "High risk: the customer must indemnify the supplier for all claims, even those caused by the supplier's own negligence. The obligation is one-sided and uncapped.",
            "ok",
            "The customer pays for claims and damages of any kind.",
            "Weather tomorrow looks sunny with light winds.",
            "",
        ],
    },
    {
        "id": "c2",
        "clause": "The Supplier's total liability under this Agreement shall not exceed the fees paid in the twelve months preceding the claim.",
        "reference": "Medium risk: liability is capped at twelve months of fees, which may be far below the customer's actual losses, though such caps are common.",
        "candidates": [
            "",
            "Liability shall not exceed the total fees under this Agreement.",
            "Medium risk: the supplier caps its liability at twelve months of fees paid, which may not cover real losses. Such caps are common but worth negotiating upward for data breaches.",
            "Nothing to see here.",
            "Please consult somebody else about this question.",
            "Medium risk: liability is capped at twelve months of fees, far below the customer's actual losses, although such caps are common.",
        ],
    },
    {
        "id": "c5",
        "clause": "The Supplier may change the fees at any time by posting new prices on its website.",
        "reference": "High risk: the supplier can raise fees unilaterally at any time just by posting prices, with no notice or consent.",
        "candidates": [
            "Prices on websites are public so the customer is informed.",
            "Fine.",
            "Websites are usually hosted in data centres.",
            "High risk: the supplier can change the fees at any time by posting new prices on its website, without notice or consent from the customer. Ask for fixed prices or advance notice with a right to terminate.",
            "",
            "The supplier may change fees by posting prices.",
        ],
    },
]


def softmax(logits: List[float]) -> List[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def sample(probs: List[float], rng: random.Random) -> int:
    u = rng.random()
    acc = 0.0
    for i, p in enumerate(probs):
        acc += p
        if u < acc:
            return i
    return len(probs) - 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="arbiter serve (default $ARBITER_URL or http://127.0.0.1:8787)")
    parser.add_argument("--token", default=None, help="bearer token (default $ARBITER_TOKEN)")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--group-size", type=int, default=8, help="answers sampled per prompt per step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=3.0)
    parser.add_argument("--output-dir", default=None, help="the run's outputDir (default: the worker's `runs`)")
    parser.add_argument("--no-create", action="store_true", help="the service starts runs itself (--run-config)")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    logits = {str(p["id"]): [0.0] * len(p["candidates"]) for p in PROMPTS}  # type: ignore[arg-type]
    curve: List[float] = []

    with ArbiterClient(args.url, token=args.token) as client:
        if not args.no_create:
            config: Dict[str, object] = {"runId": args.run_id, "steps": args.steps, "rollouts": {"type": "updates"}}
            if args.output_dir:
                config["outputDir"] = args.output_dir
            client.create_run(config)  # idempotent: an existing run is left as it is

        for step in range(1, args.steps + 1):
            rollouts = []
            picks = []  # (prompt id, candidate index), in the order of `rollouts`
            for p in PROMPTS:
                pid = str(p["id"])
                candidates: List[str] = p["candidates"]  # type: ignore[assignment]
                probs = softmax(logits[pid])
                for k in range(args.group_size):
                    i = sample(probs, rng)
                    picks.append((pid, i))
                    rollouts.append({
                        "id": f"s{step}-{pid}-{k}",
                        "prompt": ASK + str(p["clause"]),
                        "response": candidates[i],
                        "reference": p["reference"],
                        "group": pid,
                    })

            # step=None: the service numbers the step (the run's next one).
            rewards = client.score(args.run_id, None, rollouts)

            by_group: Dict[str, List[tuple]] = {}
            for (pid, i), r in zip(picks, rewards):
                if r.reward is None:  # excluded: nothing to learn from, never a stand-in
                    continue
                by_group.setdefault(pid, []).append((i, r.reward))
            trained = [reward for samples in by_group.values() for _, reward in samples]
            mean = sum(trained) / len(trained) if trained else float("nan")
            curve.append(round(mean, 6))
            print(f"step {step}  mean reward {mean:.3f}", flush=True)

            # REINFORCE with the group mean as baseline: d log pi(i) / d logit_j = [i == j] - pi_j.
            for pid, samples in by_group.items():
                baseline = sum(reward for _, reward in samples) / len(samples)
                probs = softmax(logits[pid])
                grad = [0.0] * len(probs)
                for i, reward in samples:
                    advantage = reward - baseline
                    for j, pj in enumerate(probs):
                        grad[j] += advantage * ((1.0 if i == j else 0.0) - pj)
                logits[pid] = [x + args.lr * g / len(samples) for x, g in zip(logits[pid], grad)]

    print(json.dumps({"curve": curve}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
