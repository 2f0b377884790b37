import { findCriterionIds, type FakeCall } from '../support/fake-bedrock';
import { userText } from '../support/fake-bedrock-env';

/**
 * A rubric judge for the fake Bedrock whose every criterion passes exactly when the response
 * contains that criterion's keyword: a test can compute each rollout's reward under any rubric.
 */
export function keywordJudge(keywords: Record<string, string>) {
  return (call: FakeCall): string => {
    const match = /<<<ROLLOUT_RESPONSE_(\w+)>>>\n([\s\S]*?)\n<<<END_ROLLOUT_RESPONSE_\1>>>/.exec(userText(call));
    const response = match?.[2] ?? '';
    const criteria = findCriterionIds(call.body).map((id) => {
      const pass = keywords[id] !== undefined && response.includes(keywords[id]);
      return { id, pass, evidence: pass ? `says ${keywords[id]}` : `no ${keywords[id]}` };
    });
    return JSON.stringify({ criteria, rationale: criteria.map((c) => `${c.id}: ${c.pass}`).join(', ') });
  };
}
