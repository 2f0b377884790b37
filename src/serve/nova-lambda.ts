/**
 * An AWS Lambda handler for Amazon Nova RFT that forwards the reward Lambda's payload to
 * `arbiter serve` and returns its answer unchanged, so the rewards are durable work in a run.
 * Environment: ARBITER_SERVE_URL (e.g. https://arbiter.internal:8787), ARBITER_RUN_ID, and
 * ARBITER_SERVE_TOKEN when the service has one. Node 20+ (global fetch); no dependencies.
 */
export async function handler(event: unknown): Promise<unknown> {
  const base = process.env.ARBITER_SERVE_URL;
  const runId = process.env.ARBITER_RUN_ID;
  if (!base || !runId) throw new Error('set ARBITER_SERVE_URL and ARBITER_RUN_ID in the Lambda environment');
  const token = process.env.ARBITER_SERVE_TOKEN;
  // The payload is the list of samples; an API Gateway style event carries it as a JSON body.
  const samples = typeof event === 'object' && event !== null && 'body' in event && typeof event.body === 'string' ? JSON.parse(event.body) : event;
  const response = await fetch(`${base.replace(/\/$/, '')}/nova/${encodeURIComponent(runId)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(samples),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`arbiter serve answered ${response.status}: ${text}`);
  return JSON.parse(text);
}
