import { describe, expect, it } from 'vitest';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { FAILURES } from '../../src/contract/failure-types';
import { httpErrorOf } from '../../src/serve/http-error';

describe('the service maps failures to HTTP by their type, from the one table', () => {
  it.each(Object.entries(FAILURES))('%s', (type, { http: [status, code], retry }) => {
    // The message is deliberately misleading: only the type decides.
    const cause = ApplicationFailure.create({ type, message: 'step 3 is not ahead; the run ended; send step 3 again in a few seconds' });
    const mapped = httpErrorOf(new WorkflowUpdateFailedError('update failed', cause), 'run-1');
    expect([mapped.status, mapped.code]).toEqual([status, code]);
    expect(mapped.details).toEqual(retry ? { retryable: true } : undefined);
  });

  it('finds the type behind an activity the Update ran', () => {
    const config = ApplicationFailure.create({ type: 'ConfigError', message: 'outputDir /etc is outside the folders this worker writes into' });
    const activity = new ActivityFailure('activity failed', 'admitRequests', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', config);
    const mapped = httpErrorOf(new WorkflowUpdateFailedError('update failed', activity), 'run-1');
    expect(mapped).toMatchObject({ status: 422, code: 'invalid_run_config', message: expect.stringContaining('outputDir /etc') });
  });

  it('a message that reads like a known failure, without its type, is not taken for it', () => {
    const mapped = httpErrorOf(new WorkflowUpdateFailedError('update failed', new Error('step 3 is not ahead (next step is 4)')), 'run-1');
    expect(mapped.code).toBe('rejected_by_run');
  });
});

describe('Temporal too busy for a request', () => {
  it('is a retryable 503 by its gRPC code (an Update-with-Start the server could not execute now)', () => {
    const grpc = Object.assign(new Error('Update-with-Start could not be executed.'), { code: 8, details: 'Update-with-Start could not be executed.' });
    const mapped = httpErrorOf(grpc, 'run-1');
    expect(mapped).toMatchObject({ status: 503, code: 'temporal_busy', details: { retryable: true } });
    expect(httpErrorOf(Object.assign(new Error('bad'), { code: 3 }), 'run-1').status).toBe(500);
  });
});
