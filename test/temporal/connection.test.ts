import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectSafely } from '../../src/temporal/closed-connection';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { temporalSettings } from '../../src/temporal/connection';
import { uiBaseUrl } from '../../src/temporal/web-ui-link';
import { arbiter } from '../cli/run-cli';
import { tempDir, writeSteps } from '../support/fixtures';
import { killChildren, spawnWorker } from '../helpers/processes';

// The processes below must find Temporal through the profile alone.
for (const name of Object.keys(process.env)) if (name.startsWith('TEMPORAL_')) delete process.env[name];

afterAll(killChildren);

async function profileFile(profiles: Record<string, { address: string; namespace: string }>): Promise<string> {
  const file = join(await tempDir('arbiter-profile-'), 'temporal.toml');
  const toml = Object.entries(profiles).map(
    ([name, p]) => `[profile.${name}]\naddress = "${p.address}"\nnamespace = "${p.namespace}"\n`,
  );
  await writeFile(file, toml.join('\n'));
  return file;
}

describe('connection settings (the Temporal CLI profile and variables, through @temporalio/envconfig)', () => {
  it('defaults to the local dev server and namespace "default" when nothing is set', async () => {
    const s = temporalSettings({}, { TEMPORAL_CONFIG_FILE: join(await tempDir(), 'absent.toml') });
    expect(s.connectionOptions).toEqual({ address: 'localhost:7233' });
    expect([s.address, s.namespace, s.taskQueue]).toEqual(['localhost:7233', 'default', 'arbiter']);
  });

  it('takes the profile, variables over the profile, flags over both', async () => {
    const file = await profileFile({
      default: { address: 'profile-default:7233', namespace: 'ns-default' },
      cloud: { address: 'acct.ns.tmprl.cloud:7233', namespace: 'ns.acct' },
    });
    expect(temporalSettings({}, { TEMPORAL_CONFIG_FILE: file }).address).toBe('profile-default:7233');
    const cloud = temporalSettings({}, { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_API_KEY: 'k' });
    expect([cloud.address, cloud.namespace]).toEqual(['acct.ns.tmprl.cloud:7233', 'ns.acct']);
    // An API key turns TLS on, as the Temporal CLI does.
    expect(cloud.connectionOptions).toMatchObject({ apiKey: 'k', tls: true });
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'from-env' };
    expect(temporalSettings({}, env).namespace).toBe('from-env');
    expect(temporalSettings({ namespace: 'from-flag', address: 'h:1' }, env)).toMatchObject({ namespace: 'from-flag', address: 'h:1' });
    expect(() => temporalSettings({ profile: 'missing' }, { TEMPORAL_CONFIG_FILE: file })).toThrow(/missing/);
  });

  it("links a Temporal Cloud run to Cloud's Web UI", () => {
    expect(uiBaseUrl('acct.ns.tmprl.cloud:7233', {})).toBe('https://cloud.temporal.io');
    expect(uiBaseUrl('us-east-1.aws.api.temporal.io:7233', {})).toBe('https://cloud.temporal.io');
  });

  it('a worker process and the arbiter CLI reach the dev server through a profile file alone', async () => {
    const address = inject('temporalAddress');
    const namespace = `arbiter-profile-${Date.now()}`;
    const admin = await connectSafely({ address });
    try {
      await admin.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    } finally {
      await admin.close();
    }
    const file = await profileFile({ arbiter: { address, namespace } });
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'arbiter', TEMPORAL_UI_URL: inject('temporalUiUrl') };
    const taskQueue = `profile-${Date.now()}`;

    const worker = spawnWorker({ ...env, ARBITER_TASK_QUEUE: taskQueue });
    await worker.ready;
    expect(worker.output()).toContain(`polling task queue "${taskQueue}" on ${address} (namespace ${namespace})`);

    const dir = await tempDir();
    await writeSteps(join(dir, 'rollouts'), 1, 3);
    const config = join(dir, 'run.json');
    await writeFile(config, JSON.stringify({ steps: 1, rollouts: { type: 'directory', path: 'rollouts' }, outputDir: 'out' }));
    const id = `profile-run-${Date.now()}`;
    const started = await arbiter(['run', 'start', config, '--id', id, '--task-queue', taskQueue], env);
    expect(started.stderr).toBe('');
    expect(started.stdout).toContain(`/namespaces/${namespace}/workflows/${id}`);

    const deadline = Date.now() + 60_000;
    let status = await arbiter(['run', 'status', id, '--json'], env);
    while (status.code === 0 && JSON.parse(status.stdout).status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = await arbiter(['run', 'status', id, '--json'], env);
    }
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'completed', stepsDone: 1 });

    // A profile that is named but absent is an error, never a silent fall back to localhost.
    const missing = await arbiter(['run', 'status', id, '--profile', 'nope'], { TEMPORAL_CONFIG_FILE: file });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("Profile 'nope' not found");
  });
});
