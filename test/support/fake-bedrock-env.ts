import { bedrockErrors, findCriterionIds, type FakeCall, type FaultScript } from './fake-bedrock';

export const TEST_MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

const FAKE_BEDROCK_ENV: Record<string, string | undefined> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDFAKEBEDROCKTEST',
  AWS_SECRET_ACCESS_KEY: 'fake-bedrock-test-secret',
  // A session token or profile of the user's own would sign with other credentials than these.
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
};

/**
 * Points the AWS default chain of this process (and of processes it starts later) at a fake
 * Bedrock through the standard SDK variables; returns the undo.
 */
export function useFakeBedrockEnv(url: string): () => void {
  const wanted = { ...FAKE_BEDROCK_ENV, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url };
  const saved = Object.fromEntries(Object.keys(wanted).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(wanted);
  return () => apply(saved);
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

/** Every call whose rollout text contains `marker` gets a 500 InternalServerException. */
export function failWhereTextHas(marker: string): FaultScript {
  return (call) => (userText(call).includes(marker) ? { ...bedrockErrors.internal, type: 'error' } : undefined);
}
