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
});
