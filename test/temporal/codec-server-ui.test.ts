import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { describe, expect, inject, it } from 'vitest';
import { connectSafely } from '../../src/temporal/closed-connection';
import { buildCodecServer } from '../../src/temporal/codec-server';
import { freePort } from '../../src/temporal/dev-server/free-port';
import { startDevServer } from '../../src/temporal/dev-server/start-dev-server';
import { arbiterDataConverter, isCompressed } from '../../src/temporal/payload-compression';
import { withBrowser } from '../helpers/browser';

const run = promisify(execFile);

// Large payloads are stored compressed (binary/zlib): without a codec server the Web UI and
// `temporal workflow show` print their bytes. With `arbiter codec-server` both show the JSON.
describe('the Web UI and the Temporal CLI, with arbiter codec-server', () => {
  it('show a compressed workflow input as the JSON it holds, and a Web UI of another origin gets nothing', async () => {
    const codecPort = await freePort();
    const endpoint = `http://127.0.0.1:${codecPort}`;
    const server = await startDevServer({ uiCodecEndpoint: endpoint });
    const connection = await connectSafely({ address: server.address });
    let codec: FastifyInstance | undefined;
    const serveCodec = async (origins: string[]) => {
      await codec?.close();
      codec = await buildCodecServer({ origins });
      let asked = 0;
      // onResponse: the CORS plugin answers a preflight in its own onRequest hook, before any other.
      codec.addHook('onResponse', async () => void asked++);
      await codec.listen({ port: codecPort, host: '127.0.0.1' });
      return () => asked;
    };
    try {
      const client = new Client({ connection, dataConverter: arbiterDataConverter });
      const marker = `clause-${randomUUID().slice(0, 8)}`;
      const input = { requests: Array.from({ length: 800 }, (_, i) => ({ key: `k-${i}`, text: `${marker}: liability is capped (${i})` })) };
      const firstLine = `${marker}: liability is capped (0)`;
      const workflowId = `codec-ui-${Date.now()}`;
      // No worker polls this queue: the workflow only has to exist, with its input in the history.
      const handle = await client.workflow.start('codecShown', { taskQueue: `nobody-${workflowId}`, workflowId, args: [input] });
      const { events } = await handle.fetchHistory();
      expect(isCompressed(events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!)).toBe(true);

      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const workflowPage = `${server.uiUrl}/namespaces/default/workflows/${workflowId}`;

        // A codec server for another Web UI: the browser asks it, and may not read its answer.
        const askedElsewhere = await serveCodec(['http://ui.elsewhere.example']);
        await page.goto(workflowPage);
        await page.getByText('Codec Server could not connect').filter({ visible: true }).first().waitFor({ timeout: 60_000 });
        expect(askedElsewhere()).toBeGreaterThan(0);
        expect(await page.getByText(firstLine).count()).toBe(0);

        // This Web UI's codec server: the input shows as the JSON it holds.
        await serveCodec([server.uiUrl]);
        await page.reload();
        await page.getByText(firstLine).first().waitFor({ timeout: 60_000 });
        expect(await page.getByText('Codec Server could not connect').filter({ visible: true }).count()).toBe(0);
      });

      // `temporal workflow show --output json` prints payloads as proto3 JSON: the encoding and the data, base64.
      const startInput = async (...extra: string[]) => {
        const { stdout } = await run(inject('temporalCliPath'), ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json', ...extra], {
          maxBuffer: 64 * 1024 * 1024,
        });
        const payload = JSON.parse(stdout).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
        return { encoding: Buffer.from(payload.metadata.encoding, 'base64').toString(), data: Buffer.from(payload.data, 'base64') };
      };
      expect((await startInput()).encoding).toBe('binary/zlib');
      const decoded = await startInput('--codec-endpoint', endpoint);
      expect(decoded.encoding).toBe('json/plain');
      expect(JSON.parse(decoded.data.toString('utf8'))).toEqual(input);
    } finally {
      await connection.close();
      await codec?.close();
      await server.stop();
    }
  }, 180_000);
});
