/**
 * An AWS Lambda handler for Amazon Nova RFT that forwards the reward Lambda's payload to
 * `arbiter serve` and returns its answer unchanged, so the rewards are durable work in a run.
 * Environment: ARBITER_SERVE_URL (e.g. https://arbiter.internal:8787), ARBITER_RUN_ID, and
 * ARBITER_SERVE_TOKEN when the service has one. Node 20+ (global fetch); no dependencies.
 *
 * Set the Lambda's timeout well above the service's `--answer-timeout-s` (AWS allows 15 minutes;
 * the default 3 s is far too short for a judged step). A `503` the service marks retryable (the
 * step is not scored yet) is sent again, the same body under the same key, so it attaches to the
 * same work, for as long as the Lambda has more than RESERVE_MS left.
 */
const RESERVE_MS = 15_000;

interface LambdaContext {
  getRemainingTimeInMillis?: () => number;
}

export async function handler(event: unknown, context?: LambdaContext): Promise<unknown> {
  const base = process.env.ARBITER_SERVE_URL;
  const runId = process.env.ARBITER_RUN_ID;
  if (!base || !runId) throw new Error('set ARBITER_SERVE_URL and ARBITER_RUN_ID in the Lambda environment');
  const token = process.env.ARBITER_SERVE_TOKEN;
  // The payload is the list of samples; an API Gateway style event carries it as a JSON body.
  const samples = typeof event === 'object' && event !== null && 'body' in event && typeof event.body === 'string' ? JSON.parse(event.body) : event;
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${base.replace(/\/$/, '')}/nova/${encodeURIComponent(runId)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(samples),
    });
    const text = await response.text();
    if (response.ok) return JSON.parse(text);
    const left = context?.getRemainingTimeInMillis?.() ?? 0;
    if (!retryable(response.status, text) || left < RESERVE_MS) throw new Error(`arbiter serve answered ${response.status}: ${text}`);
    await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
  }
}

function retryable(status: number, text: string): boolean {
  if (status !== 503) return false;
  try {
    return (JSON.parse(text) as { details?: { retryable?: boolean } }).details?.retryable === true;
  } catch {
    return false;
  }
}
