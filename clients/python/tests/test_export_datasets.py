"""`arbiter run export` files, loaded with the real Hugging Face `datasets` package as TRL's trainers load them.

The run folder is made by the Node side's own step machinery (test/support/make-judged-run.ts:
two reward versions, with fallback and excluded rewards) and exported with the real CLI, so
these tests need the repository's Node install (npm install); outside the repository they skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

datasets = pytest.importorskip("datasets")

REPO = Path(__file__).resolve().parents[3]
IN_REPO = (REPO / "bin" / "arbiter.js").is_file()


def _node() -> str:
    node = shutil.which("node")
    if not IN_REPO:
        pytest.skip("needs the Arbiter repository (these tests export with its CLI)")
    # Inside the repository a missing Node install is a setup mistake to fix, not a reason to skip.
    assert node is not None, "node is not on PATH"
    assert (REPO / "node_modules" / "tsx").is_dir(), "run npm install in the repository first"
    return node


def _judged_run(tmp_path: Path, trajectories: bool = False) -> Dict[str, str]:
    args = [_node(), "--import", "tsx", "test/support/make-judged-run.ts", str(tmp_path)]
    if trajectories:
        args.append("--trajectories")
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


# One run of each kind per module: making one costs a Node start and two judged versions.
@pytest.fixture(scope="module")
def plain_run(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    return _judged_run(tmp_path_factory.mktemp("plain"))


@pytest.fixture(scope="module")
def chat_run(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    return _judged_run(tmp_path_factory.mktemp("chat"), trajectories=True)


def _export(run: Dict[str, str], out: Path, *args: str) -> subprocess.CompletedProcess:
    extra = ["--rollouts", run["rolloutsDir"]] if run.get("rolloutsDir") else []
    cmd = [_node(), "bin/arbiter.js", "run", "export", run["runDir"], *args, *extra]
    done = subprocess.run([*cmd, "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _load(path: Path) -> Any:
    return datasets.load_dataset("json", data_files=str(path), split="train")


def _not_scored(run: Dict[str, str], tmp_path: Path, version: str) -> set:
    path = tmp_path / f"rewards-{version}.jsonl"
    _export(run, path, "--format", "rewards", "--version", version)
    table = _load(path)
    assert {"id", "step", "reward", "status", "flags", "breakdown"} <= set(table.column_names)
    return {row["id"] for row in table if row["status"] != "scored"}


@pytest.mark.parametrize("version", ["original", "strict"])
def test_dpo_pairs_load_with_the_columns_dpo_trainer_reads_and_no_fallback_or_excluded(plain_run: Dict[str, str], tmp_path: Path, version: str) -> None:
    run = plain_run
    path = tmp_path / "dpo.jsonl"
    _export(run, path, "--format", "dpo", "--version", version)
    pairs = _load(path)
    # DPOTrainer's preference type, standard format: prompt, chosen and rejected strings.
    assert {"prompt", "chosen", "rejected"} <= set(pairs.column_names)
    for column in ("prompt", "chosen", "rejected"):
        assert pairs.features[column].dtype == "string"
    assert len(pairs) == {"original": 3, "strict": 2}[version]
    left_out = _not_scored(run, tmp_path, version)
    assert left_out, "the fixture has fallback or excluded rewards in each version"
    used = set(pairs["chosen_id"]) | set(pairs["rejected_id"])
    assert not used & left_out
    assert all(c > r for c, r in zip(pairs["chosen_reward"], pairs["rejected_reward"]))


def test_sft_samples_load_as_prompt_completion(plain_run: Dict[str, str], tmp_path: Path) -> None:
    run = plain_run
    path = tmp_path / "sft.jsonl"
    _export(run, path, "--format", "sft", "--version", "strict")
    samples = _load(path)
    # SFTTrainer's prompt-completion type (it trains on the completion only).
    assert {"prompt", "completion"} <= set(samples.column_names)
    assert samples.features["completion"].dtype == "string"
    assert sorted(samples["id"]) == ["s1-a", "s1-f", "s2-a"]
    assert not set(samples["id"]) & _not_scored(run, tmp_path, "strict")


def _messages(value: Any) -> List[Dict[str, Any]]:
    assert isinstance(value, list) and value and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in value)
    return value


def test_trajectories_export_in_the_conversational_format(chat_run: Dict[str, str], tmp_path: Path) -> None:
    run = chat_run
    dpo_path, sft_path = tmp_path / "dpo.jsonl", tmp_path / "sft.jsonl"
    _export(run, dpo_path, "--format", "dpo")
    _export(run, sft_path, "--format", "sft")
    pairs = _load(dpo_path)
    first = pairs[0]
    # TRL's conversational preference rows: lists of {role, content}; the prompt ends with the
    # user's turn, chosen and rejected hold the policy's tool call, the tool result and its answer.
    assert [m["role"] for m in _messages(first["prompt"])] == ["system", "user"]
    assert [m["role"] for m in _messages(first["chosen"])] == ["assistant", "tool", "assistant"]
    assert [m["role"] for m in _messages(first["rejected"])] == ["assistant", "tool", "assistant"]
    call = first["chosen"][0]["tool_calls"][0]
    assert call["function"] == {"name": "lookup_clause", "arguments": '{"clause":"7.2"}'}
    samples = _load(sft_path)
    assert [m["role"] for m in _messages(samples[0]["completion"])][-1] == "assistant"
    assert not set(pairs["chosen_id"]) & _not_scored(run, tmp_path, "original")


def test_stdout_is_the_dataset_alone(plain_run: Dict[str, str], tmp_path: Path) -> None:
    run = plain_run
    cmd = [_node(), "bin/arbiter.js", "run", "export", run["runDir"], "--format", "dpo", "--rollouts", run["rolloutsDir"]]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    path = tmp_path / "from-stdout.jsonl"
    path.write_text(done.stdout)
    assert len(_load(path)) == 3
    assert "export: 3 dpo rows" in done.stderr
