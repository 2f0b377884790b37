import { findCriterionIds, type FakeCall } from '../fake-bedrock/server';

export const TEST_MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

/** Points the AWS default chain of this process at a fake Bedrock; returns the undo. */
export function useFakeBedrockEnv(url: string): () => void {
  const saved = { ...process.env };
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = url;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFAKEBEDROCKTEST';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-bedrock-test-secret';
  return () => {
    for (const key of ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  };
}

export function userText(call: FakeCall): string {
  return (call.body.messages ?? [])
    .filter((m) => m.role === 'user')
    .flatMap((m) => m.content ?? [])
    .map((c) => c.text ?? '')
    .join('\n');
}

function block(text: string, label: string): string {
  const match = new RegExp(`<<<${label}_(\\w+)>>>\\n([\\s\\S]*?)\\n<<<END_${label}_\\1>>>`).exec(text);
  return match?.[2] ?? '';
}

/**
 * A judge that knows what a good answer looks like: it contains `marker`. Rubric calls pass
 * every criterion for such responses and fail them otherwise; preference calls prefer them.
 */
export function markerJudge(marker: string) {
  return (call: FakeCall): string => {
    const text = userText(call);
    if (text.includes('RESPONSE_A_')) {
      const a = block(text, 'RESPONSE_A').includes(marker);
      const b = block(text, 'RESPONSE_B').includes(marker);
      const winner = a === b ? 'tie' : a ? 'A' : 'B';
      return JSON.stringify({ winner, rationale: `A good: ${a}, B good: ${b}` });
    }
    const good = block(text, 'ROLLOUT_RESPONSE').includes(marker);
    const criteria = findCriterionIds(call.body).map((id) => ({ id, pass: good, evidence: good ? 'has it' : 'lacks it' }));
    return JSON.stringify({ criteria, rationale: good ? 'flags the risk' : 'misses the risk' });
  };
}
