import { defaultGrpcRetryOptions } from '@temporalio/client';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { busyDelayMs, busyWorkflowRetryOptions, isBusyWorkflow } from '../../src/temporal/busy-workflow-retry';

const { google, temporal } = proto;
const Cause = temporal.api.enums.v1.ResourceExhaustedCause;
type Status = Parameters<typeof isBusyWorkflow>[0];

/** A gRPC status as the server sends it: code, message, and a google.rpc.Status in `grpc-status-details-bin`. */
function statusOf(code: number, detail?: { type: string; value: Uint8Array } | Buffer): Status {
  const bin =
    detail === undefined
      ? undefined
      : Buffer.isBuffer(detail)
        ? detail
        : Buffer.from(google.rpc.Status.encode({ code, message: 'refused', details: [{ type_url: `type.googleapis.com/${detail.type}`, value: detail.value }] }).finish());
  const metadata = { get: (key: string) => (key === 'grpc-status-details-bin' && bin ? [bin] : []) };
  return { code, details: 'workflow operation can not be applied because workflow is closing', metadata } as unknown as Status;
}

function exhausted(cause: number) {
  return { type: 'temporal.api.errordetails.v1.ResourceExhaustedFailure', value: temporal.api.errordetails.v1.ResourceExhaustedFailure.encode({ cause, scope: 1 }).finish() };
}

describe('retrying a workflow that is busy closing (an Update sent while the run continues as new)', () => {
  it('knows the refusal by the cause in its details, whatever the message says', () => {
    expect(isBusyWorkflow(statusOf(8, exhausted(Cause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW)))).toBe(true);
    // A rate limit, the same message: not a busy workflow.
    expect(isBusyWorkflow(statusOf(8, exhausted(Cause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT)))).toBe(false);
    expect(isBusyWorkflow(statusOf(8))).toBe(false);
    expect(isBusyWorkflow(statusOf(14, exhausted(Cause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW)))).toBe(false);
    expect(isBusyWorkflow(statusOf(8, Buffer.from([0xff, 0xff, 0xff])))).toBe(false);
    expect(isBusyWorkflow(statusOf(8, { type: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: new Uint8Array() }))).toBe(false);
  });

  it('waits tens of ms before the first retry, where the SDK waits as for a rate limit, and keeps at it as long in all', () => {
    const busy = statusOf(8, exhausted(Cause.RESOURCE_EXHAUSTED_CAUSE_BUSY_WORKFLOW));
    const rateLimited = statusOf(8, exhausted(Cause.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT));
    const ours = busyWorkflowRetryOptions();
    const sdk = defaultGrpcRetryOptions();
    // The interceptor asks with attempt 1 before the first retry.
    expect(sdk.delayFunction(1, busy)).toBeGreaterThanOrEqual(1360);
    for (let i = 0; i < 50; i++) expect(ours.delayFunction(1, busy)).toBeLessThanOrEqual(60);
    expect(busyDelayMs(3)).toBeGreaterThan(busyDelayMs(1) * 1.5);
    expect(busyDelayMs(20)).toBeLessThanOrEqual(1200);
    // A rate limit and every other status: the SDK's own delays and decisions.
    expect(ours.delayFunction(1, rateLimited)).toBeGreaterThanOrEqual(1360);
    const unavailable = statusOf(14);
    for (const attempt of [1, 9, 10, 11]) expect(ours.retryableDecider(attempt, unavailable)).toBe(sdk.retryableDecider(attempt, unavailable));
    // How long each keeps at a busy workflow: the SDK retries 9 times, ~40 s of waits; ours as long, in many more, shorter waits.
    const total = (options: typeof ours) => {
      let waited = 0;
      let attempt = 1;
      for (; options.retryableDecider(attempt, busy); attempt++) waited += options.delayFunction(attempt, busy);
      return { waited, attempts: attempt - 1 };
    };
    const sdkTotal = total(sdk);
    const ourTotal = total(ours);
    expect(sdkTotal.attempts).toBe(9);
    expect(ourTotal.attempts).toBeGreaterThan(30);
    expect(ourTotal.waited).toBeGreaterThan(25_000);
    expect(ourTotal.waited).toBeLessThan(60_000);
  });
});
