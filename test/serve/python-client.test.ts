import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installPythonForTests, PYTHON, runFile } from '../helpers/python';
import { readRunRecords } from '../helpers/run-records';
import { withServedRuns } from '../helpers/serve';

// What a TRL trainer does: the reward function TRL calls, twice in one training step (gradient
// accumulation), with plain and conversational samples; and the plain client. Prints JSON.
const TRAINER = `
import asyncio, json, sys
from types import SimpleNamespace
from arbiter_client import ArbiterClient
from arbiter_client.trl import reward_func

url, run_id = sys.argv[1], sys.argv[2]
f = reward_func(run_id=run_id, base_url=url)
state = SimpleNamespace(global_step=3)
prompt = "Flag the legal risk of this clause: the supplier may terminate at any time without notice."
good = "High risk: the supplier may terminate at any time without notice, leaving no continuity."
first = asyncio.run(f(prompts=[prompt, prompt], completions=[good, "ok"], reference=[good, good], trainer_state=state))
second = asyncio.run(f(
    prompts=[[{"role": "user", "content": prompt}]],
    completions=[[{"role": "assistant", "content": good}]],
    reference=[good], trainer_state=state))
with ArbiterClient(url) as client:
    plain = client.score(run_id, None, [{"id": "plain-1", "prompt": prompt, "response": good, "reference": good}], request_id="fixed-id")
    again = client.score(run_id, None, [{"id": "plain-1", "prompt": prompt, "response": good, "reference": good}], request_id="fixed-id")
print(json.dumps({"first": first, "second": second, "plain": [r.reward for r in plain], "again": [r.reward for r in again]}))
`;

// The package installed as users install it (pip install ./clients/python), in .tools/pyenv.
beforeAll(installPythonForTests, 180_000);

describe('the Python client against arbiter serve', () => {
  it('a TRL reward function called twice in one training step, and the plain client, get every reward from a real run', async () => {
    await withServedRuns(async ({ svc, dir, outputDir }) => {
      const runId = `python-client-${Date.now()}`;
      const { stdout } = await runFile(PYTHON, ['-c', TRAINER, svc.url, runId], { cwd: dir });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, (number | null)[]>;
      expect(out.first).toHaveLength(2);
      expect(out.first![0]).toBeGreaterThan(out.first![1]!);
      expect(out.second).toEqual([out.first![0]]);
      expect(out.plain).toEqual([out.first![0]]);
      // A retry under the same request id is answered, not judged again.
      expect(out.again).toEqual(out.plain);

      const { records } = await readRunRecords(join(outputDir, runId));
      expect(records).toHaveLength(4); // 2 + 1 + 1: the retry added nothing
      expect(new Set(records.map((r) => r.id)).size).toBe(4);
    });
  });
});
