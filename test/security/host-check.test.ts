import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { isLoopbackHostHeader } from '../../src/serve/server';
import { withService } from '../helpers/serve';

/** A GET with a Host header of our choosing (fetch does not let a caller set it). */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url + path, { headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('arbiter serve without a token (issue 16, case 9)', () => {
  it('answers only requests addressed to a loopback name, so a DNS-rebound web page cannot read or post', async () => {
    // No Temporal is needed to be refused: the client is never used for these requests.
    const client = {} as Client;
    await withService({ client, taskQueue: 'unused', spillDir: '/tmp/unused' }, async (svc) => {
      const rebound = await getWithHost(svc.url, '/healthz', 'evil.example:8787');
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body)).toMatchObject({ error: 'host_not_allowed' });
      const review = await getWithHost(svc.url, '/review/api/reviews', 'attacker.test');
      expect(review.status).toBe(403);
      for (const host of ['localhost:8787', '127.0.0.1:8787', '[::1]:8787', 'localhost']) {
        expect((await getWithHost(svc.url, '/healthz', host)).status).toBe(200);
      }
    });
  });

  it('reads Host names as loopback or not', () => {
    expect(isLoopbackHostHeader('127.0.0.2:1')).toBe(true);
    expect(isLoopbackHostHeader('[::1]')).toBe(true);
    expect(isLoopbackHostHeader('localhost.evil.test')).toBe(false);
    expect(isLoopbackHostHeader('127.0.0.1.evil.test')).toBe(false);
    expect(isLoopbackHostHeader(undefined)).toBe(false);
  });
});
