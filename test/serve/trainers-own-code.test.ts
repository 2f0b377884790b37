import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunLayout } from '../../src/contract/run-layout';
import { progressQuery } from '../../workflows/definitions';
import { installPythonForTests, PYTHON, runFile } from '../helpers/python';
import { withServedRuns } from '../helpers/serve';

const PROMPT = 'Flag the legal risk of this clause: the supplier may terminate at any time without notice.';
const GOOD = 'High risk: the supplier may terminate at any time without notice, leaving no continuity.';

/**
 * OpenRLHF's own SingleTurnAgentExecutor.execute (openrlhf/utils/agent.py of the PyPI release
 * openrlhf==0.11.2, installed by scripts/test-python with --no-deps), driven as its vLLM actors
 * drive it (trainer/ray/vllm_engine.py: one execute per sample, a prompt's samples gathered at
 * once), with a stand-in tokenizer and engine: the tokenizer keeps special tokens as tokens and
 * decodes them back, as Hugging Face's does with skip_special_tokens=False, and the engine
 * "generates" the given answer followed by its stop token, as vLLM returns it. The reward call,
 * its payload, timeout, retries and the reading of the answer are OpenRLHF's code. Then the
 * tensors samples_generator.py builds from each output (torch.tensor([value]) with no dtype) are
 * checked for their dtype by the rule torch uses: floats give float32, ints int64.
 */
const OPENRLHF = `
import asyncio, importlib.util, json, os, sys, types
from types import SimpleNamespace

# Import agent.py alone: the package's __init__ pulls in torch and transformers.
root = os.path.dirname(importlib.util.find_spec("openrlhf").origin)
for name, path in (("openrlhf", root), ("openrlhf.utils", os.path.join(root, "utils"))):
    module = types.ModuleType(name)
    module.__path__ = [path]
    sys.modules[name] = module
from openrlhf.utils.agent import SingleTurnAgentExecutor

SPECIAL = ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]

class Ids(list):
    def tolist(self):
        return list(self)

class Tokenizer:
    def __init__(self):
        self.pieces = []
    def _id(self, piece):
        if piece not in self.pieces:
            self.pieces.append(piece)
        return self.pieces.index(piece)
    def encode(self, text):
        ids, i = [], 0
        while i < len(text):
            special = next((s for s in SPECIAL if text.startswith(s, i)), None)
            piece = special or text[i]
            ids.append(self._id(piece))
            i += len(piece)
        return ids
    def __call__(self, text, add_special_tokens=False, return_tensors=None):
        return {"input_ids": [Ids(self.encode(text))]}
    def decode(self, ids, skip_special_tokens=False):
        return "".join(p for p in (self.pieces[i] for i in ids) if not (skip_special_tokens and p in SPECIAL))

class Engine:
    def __init__(self, tokenizer, answers):
        self.tokenizer, self.answers = tokenizer, answers
    async def generate(self, prompt_token_ids, params, multi_modal_data=None):
        answer = self.answers[self.tokenizer.decode(prompt_token_ids)]
        ids = self.tokenizer.encode(answer + "<|im_end|>")
        return SimpleNamespace(outputs=[SimpleNamespace(token_ids=ids, finish_reason="stop", logprobs=None)])

url, prompt, good, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tokenizer = Tokenizer()
chat = lambda i: f"<|im_start|>system\\nYou are a careful lawyer.<|im_end|>\\n<|im_start|>user\\n{prompt} (#{i})<|im_end|>\\n<|im_start|>assistant\\n"
answers = {chat(i): (good if i % 2 == 0 else "") for i in range(n)}
engine = Engine(tokenizer, answers)
params = SimpleNamespace(max_tokens=None, logprobs=None)

async def main():
    executors = [SingleTurnAgentExecutor(remote_rm_url=url) for _ in range(n)]
    return await asyncio.gather(*(e.execute(chat(i), good, params, 4096, tokenizer, engine) for i, e in enumerate(executors)))

outputs = asyncio.run(main())

def dtype(value):
    # torch.tensor([value]): float32 if any float is in it, int64 if only ints (and bools).
    flat = value if isinstance(value, list) else [value]
    return "float32" if any(isinstance(v, float) for v in flat) else "int64"

print(json.dumps([
    {
        "reward": o["reward"],
        "scores": o["scores"],
        "dtypes": {"reward": dtype(o["reward"]), "scores": dtype(o["scores"]), **{k: dtype(v) for k, v in o["extra_logs"].items()}},
        "extra_logs": sorted(o["extra_logs"]),
    }
    for o in outputs
]))
`;

/**
 * TRL's own reward-calling path, restated: TRL needs torch, so it cannot be installed here. The
 * restatement follows TRL at f2cd57710 line by line, with torch tensors as lists, torch.nan as
 * math.nan, the reward-model branch, profiling and the cross-process gather left out:
 * trl/trainer/utils.py start_event_loop_in_daemon and shutdown_event_loop_in_daemon (lines
 * 1239-1288); trl/trainer/grpo_trainer.py GRPOTrainer.__init__'s async loop (lines 701-712),
 * _log_completion_extra and _log_metric (lines 1586-1609), _calculate_rewards (lines 1611-1703),
 * and the flush of the logged columns and metrics after it (lines 2759-2774). The batch is what
 * GRPO hands it: each dataset row repeated num_generations times, conversational prompts, and
 * completions as the tool-calling loop (_tool_call_loop, lines 1933-2141) and parse_response
 * (trl/chat_template_utils.py) build them: an assistant turn with tool_calls (arguments parsed to
 * a dict, content ""), a {"role": "tool", "name", "content"} result, then the final answer.
 */
const TRL = `
import asyncio, atexit, inspect, json, math, sys, threading
from collections import defaultdict
from arbiter_client.trl import reward_func, sync_reward_func

url, async_run, sync_run, prompt, good = sys.argv[1:6]

# trl/trainer/utils.py (f2cd57710), lines 1239-1288
def start_event_loop_in_daemon(name=None):
    loop = asyncio.new_event_loop()
    loop_ready_event = threading.Event()

    def run_loop():
        asyncio.set_event_loop(loop)
        loop_ready_event.set()
        loop.run_forever()

    thread = threading.Thread(target=run_loop, name=name, daemon=True)
    thread.start()
    return thread, loop, loop_ready_event

def shutdown_event_loop_in_daemon(thread, loop):
    if loop is None or thread is None:
        return
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)

class TrainerState:  # transformers' TrainerState, as far as a reward function reads it
    def __init__(self, global_step):
        self.global_step = global_step

class Environment:  # what an environment_factory makes: an object, one per completion
    def get_reward(self):
        return 0.0

# trl/trainer/grpo_trainer.py (f2cd57710)
class GRPOTrainer:
    def __init__(self, reward_funcs, state):
        self.reward_funcs = reward_funcs
        self.reward_func_names = [f.__name__ for f in reward_funcs]  # get_callable_name
        self.state = state
        self.tools = []
        self._pending_extra_logs = defaultdict(list)
        self._pending_metrics = defaultdict(list)
        # lines 701-712
        self.environments = None
        self._has_async_funcs = any(inspect.iscoroutinefunction(func) for func in self.reward_funcs + self.tools)
        if self._has_async_funcs:
            self.async_loop_thread, self.async_loop, self.async_loop_ready_event = start_event_loop_in_daemon(
                name="GRPOTrainer-AsyncLoop"
            )
            self.async_loop_ready_event.wait()
            atexit.register(shutdown_event_loop_in_daemon, self.async_loop_thread, self.async_loop)

    # lines 1586-1609
    def _log_completion_extra(self, column, values):
        self._pending_extra_logs[column].extend(values)

    def _log_metric(self, name, value):
        self._pending_metrics[name].append(value)

    # lines 1611-1703
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = [[0.0] * len(self.reward_funcs) for _ in prompts]  # torch.zeros(B, F)

        keys = [key for key in inputs[0] if key not in ["prompt", "completion", "completion_ids"]]
        reward_kwargs = {key: [example[key] for example in inputs] for key in keys}
        reward_kwargs["trainer_state"] = self.state
        reward_kwargs["log_extra"] = self._log_completion_extra
        reward_kwargs["log_metric"] = self._log_metric
        if self.environments is not None:
            reward_kwargs["environments"] = self.environments

        async_funcs_info = []
        for i, (reward_func, reward_func_name) in enumerate(zip(self.reward_funcs, self.reward_func_names, strict=True)):
            if inspect.iscoroutinefunction(reward_func):
                async_funcs_info.append((i, reward_func, reward_func_name))
            else:
                output_reward_func = reward_func(
                    prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs
                )
                output_reward_func = [reward if reward is not None else math.nan for reward in output_reward_func]
                for row, reward in enumerate(output_reward_func):
                    rewards_per_func[row][i] = reward

        if async_funcs_info:

            async def _invoke_async(index, func, func_name):
                output = await func(
                    prompts=prompts, completions=completions, completion_ids=completion_ids_list, **reward_kwargs
                )
                output = [r if r is not None else math.nan for r in output]
                return index, output

            async def _run_async_funcs():
                coros = [_invoke_async(i, func, func_name) for (i, func, func_name) in async_funcs_info]
                return await asyncio.gather(*coros)

            async_results = asyncio.run_coroutine_threadsafe(_run_async_funcs(), self.async_loop).result()
            for idx, output_reward_func in async_results:
                for row, reward in enumerate(output_reward_func):
                    rewards_per_func[row][idx] = reward
        return rewards_per_func

rows = [
    {"prompt": [{"role": "system", "content": "You are a careful lawyer. Look clauses up with clause_lookup."},
                {"role": "user", "content": f"{prompt} (#{k})"}],
     "solution": good, "topic": "termination"}
    for k in range(2)
]
num_generations = 4
inputs = [dict(row) for row in rows for _ in range(num_generations)]  # RepeatSampler: a row's generations together

def answer(text):
    return [{"role": "assistant", "content": text}]

def with_tool(text):
    call = {"type": "function", "function": {"name": "clause_lookup", "arguments": {"topic": "termination"}}}
    return [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "name": "clause_lookup", "content": "Clause 9: the supplier may terminate at any time without notice."},
        {"role": "assistant", "content": text},
    ]

# Of each prompt's four: a good answer after a tool call, a good one, an empty one, an empty one after a tool call.
completions = [[with_tool(good), answer(good), answer(""), with_tool("")][j % num_generations] for j in range(len(inputs))]
prompts = [x["prompt"] for x in inputs]
completion_ids = [[1, 2, 3] for _ in inputs]

trainer = GRPOTrainer(
    [reward_func(run_id=async_run, base_url=url), sync_reward_func(run_id=sync_run, base_url=url, name="arbiter_sync")],
    TrainerState(global_step=3),
)
trainer.environments = [Environment() for _ in inputs]
rewards = trainer._calculate_rewards(inputs, prompts, completions, completion_ids)

# lines 2759-2774: the columns as logged, each metric's mean over the batch's values
extra = {column: list(trainer._pending_extra_logs[column]) for column in sorted(trainer._pending_extra_logs)}
metrics = {name: sum(v) / len(v) for name, v in sorted(trainer._pending_metrics.items())}
print(json.dumps({
    "rewards": [[None if isinstance(r, float) and math.isnan(r) else r for r in row] for row in rewards],
    "types": sorted({type(r).__name__ for row in rewards for r in row}),
    "extra": extra,
    "metrics": metrics,
}))
`;

beforeAll(installPythonForTests, 180_000);

describe('the trainers’ own reward-calling code against arbiter serve', () => {
  it('OpenRLHF (agent.py, openrlhf==0.11.2): 8 samples at once, one per request, each a float reward; an empty generation is judged empty', async () => {
    await withServedRuns(async ({ client, svc, dir, outputDir }) => {
      const runId = `openrlhf-agent-${Date.now()}`;
      const { stdout } = await runFile(PYTHON, ['-c', OPENRLHF, `${svc.url}/openrlhf/${runId}`, PROMPT, GOOD, '8'], { cwd: dir });
      const outputs = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        reward: number[];
        scores: number[];
        dtypes: Record<string, string>;
        extra_logs: string[];
      }[];
      expect(outputs).toHaveLength(8);
      for (const o of outputs) {
        expect(o.reward).toHaveLength(1);
        expect(o.scores).toEqual(o.reward);
        // Every tensor OpenRLHF builds from the answer is a float tensor, whole numbers included.
        for (const [key, dtype] of Object.entries(o.dtypes)) expect(dtype, key).toBe('float32');
        expect(o.extra_logs).toEqual(['arbiter_excluded', 'arbiter_fallback', 'arbiter_refused', 'arbiter_scored', 'arbiter_step']);
      }
      for (let i = 0; i < 8; i += 2) expect(outputs[i]!.reward[0]).toBeGreaterThan(outputs[i + 1]!.reward[0]!);

      // What the judge saw: the system and user turns without template markers, and the
      // answer without its stop token; an empty generation is empty text.
      const progress = await client.workflow.getHandle(runId).query(progressQuery);
      expect(progress.totals.rollouts).toBe(8);
      const layout = RunLayout.of(outputDir, runId);
      const seen = [];
      for (let step = 1; step <= progress.stepsDone; step++) {
        const text = await readFile(layout.requestsInbox(step), 'utf8');
        seen.push(...text.trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; response: string; reference: string }));
      }
      expect(seen).toHaveLength(8);
      for (const r of seen) {
        expect(r.prompt).toMatch(/^System: You are a careful lawyer\.\n\nUser: Flag the legal risk .* \(#\d\)$/);
        expect([GOOD, '']).toContain(r.response);
        expect(r.reference).toBe(GOOD);
      }
      expect(seen.filter((r) => r.response === '')).toHaveLength(4);
      await client.workflow.getHandle(runId).terminate('test over');
    });
  });

  it('TRL (GRPOTrainer._calculate_rewards, restated from f2cd57710): a tool-calling GRPO batch through the async and the sync path, logged through log_extra and log_metric', async () => {
    await withServedRuns(async ({ client, svc, dir, outputDir }) => {
      const asyncRun = `trl-async-${Date.now()}`;
      const syncRun = `trl-sync-${Date.now()}`;
      const { stdout } = await runFile(PYTHON, ['-c', TRL, svc.url, asyncRun, syncRun, PROMPT, GOOD], { cwd: dir });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        rewards: (number | null)[][];
        types: string[];
        extra: Record<string, string[]>;
        metrics: Record<string, number>;
      };
      // One float per completion and function, none missing (a None would have become NaN).
      expect(out.types).toEqual(['float']);
      expect(out.rewards).toHaveLength(8);
      for (const row of out.rewards) for (const r of row) expect(typeof r).toBe('number');
      // The async and the sync function judge the same batch alike.
      expect(out.rewards.map((row) => row[1])).toEqual(out.rewards.map((row) => row[0]));
      // Of each prompt's four: good after a tool call, good, empty, empty after a tool call.
      for (let g = 0; g < 8; g += 4) {
        const [toolGood, good, empty, toolEmpty] = out.rewards.slice(g, g + 4).map((row) => row[0]!);
        expect(Math.min(toolGood!, good!)).toBeGreaterThan(Math.max(empty!, toolEmpty!));
      }
      // Each function logged one status per sample under its own name, and its batch's rates.
      expect(Object.keys(out.extra)).toEqual(['arbiter_flags', 'arbiter_status', 'arbiter_sync_flags', 'arbiter_sync_status']);
      expect(out.extra.arbiter_status).toEqual(Array(8).fill('scored'));
      expect(out.extra.arbiter_sync_status).toEqual(Array(8).fill('scored'));
      expect(out.extra.arbiter_flags).toHaveLength(8);
      for (const name of ['arbiter', 'arbiter_sync']) {
        for (const rate of ['fallback', 'excluded', 'refused', 'error']) expect(out.metrics[`${name}/${rate}_rate`], `${name}/${rate}`).toBe(0);
      }
      expect(Object.keys(out.metrics)).toHaveLength(8);

      // What the run stored: the rollouts as messages, the system and user turns, the tool call
      // and its result kept; no other dataset column and nothing of the logging callables.
      const progress = await client.workflow.getHandle(asyncRun).query(progressQuery);
      expect(progress.totals.rollouts).toBe(8);
      const layout = RunLayout.of(outputDir, asyncRun);
      const seen: { id: string; group: string; reference: string; messages: Record<string, unknown>[] }[] = [];
      for (let step = 1; step <= progress.stepsDone; step++) {
        const text = await readFile(layout.requestsInbox(step), 'utf8');
        seen.push(...text.trim().split('\n').map((l) => JSON.parse(l)));
      }
      expect(seen).toHaveLength(8);
      expect(new Set(seen.map((r) => r.group)).size).toBe(2);
      for (const r of seen) {
        expect(Object.keys(r).sort()).toEqual(['group', 'id', 'messages', 'reference']);
        expect(r.reference).toBe(GOOD);
        expect(r.messages[0]).toEqual({ role: 'system', content: 'You are a careful lawyer. Look clauses up with clause_lookup.' });
        expect(r.messages[1]).toMatchObject({ role: 'user', content: expect.stringMatching(/^Flag the legal risk .* \(#[01]\)$/) });
        expect(r.messages.at(-1)).toMatchObject({ role: 'assistant', content: expect.toBeOneOf([GOOD, '']) });
      }
      const withTool = seen.filter((r) => r.messages.length === 5);
      expect(withTool).toHaveLength(4);
      for (const r of withTool) {
        expect(r.messages[2]).toEqual({
          role: 'assistant',
          content: '',
          tool_calls: [{ type: 'function', function: { name: 'clause_lookup', arguments: { topic: 'termination' } } }],
        });
        expect(r.messages[3]).toEqual({ role: 'tool', name: 'clause_lookup', content: 'Clause 9: the supplier may terminate at any time without notice.' });
      }
      for (const runId of [asyncRun, syncRun]) await client.workflow.getHandle(runId).terminate('test over');
    });
  });
});
