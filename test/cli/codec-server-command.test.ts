import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/temporal/dev-server/free-port';
import { ZlibPayloadCodec } from '../../src/temporal/payload-compression';
import { arbiter } from './run-cli';

const LAUNCHER = fileURLToPath(new URL('../../bin/arbiter.js', import.meta.url));

describe('arbiter codec-server', () => {
  it('refuses an origin that is not one, naming the flag', async () => {
    const run = await arbiter(['codec-server', '--ui-origin', 'http://localhost:8233/namespaces']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--ui-origin http://localhost:8233/namespaces');
  });

  it('serves /decode until SIGTERM, then exits 0', async () => {
    const port = await freePort();
    const ui = 'http://127.0.0.1:18233';
    // Given with a trailing slash, the origin is still matched as a browser sends it.
    const child = spawn(process.execPath, [LAUNCHER, 'codec-server', '--port', String(port), '--ui-origin', `${ui}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      while (!out.includes('--codec-endpoint')) {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toContain(`--ui-codec-endpoint http://127.0.0.1:${port}`);
      const big = { text: 'The supplier is liable for direct damages only. '.repeat(1000) };
      const [compressed] = await new ZlibPayloadCodec().encode([defaultPayloadConverter.toPayload(big)]);
      const preflight = await fetch(`http://127.0.0.1:${port}/decode`, { method: 'OPTIONS', headers: { origin: ui, 'access-control-request-method': 'POST' } });
      expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
      const res = await fetch(`http://127.0.0.1:${port}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from(compressed!.metadata!.encoding!).toString('base64') }, data: Buffer.from(compressed!.data!).toString('base64') }] }),
      });
      const [decoded] = ((await res.json()) as { payloads: { data: string }[] }).payloads;
      expect(JSON.parse(Buffer.from(decoded!.data, 'base64').toString())).toEqual(big);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
