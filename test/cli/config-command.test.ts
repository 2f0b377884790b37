import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/fixtures';
import { arbiter } from './run-cli';

describe('arbiter config validate', () => {
  it('shows how a run on a shared account is cut, and the pace of its queue', async () => {
    const dir = await tempDir();
    const file = join(dir, 'run.yaml');
    await writeFile(
      file,
      'steps: 1\nrollouts: {type: directory, path: r}\njudge:\n  provider: bedrock\n  model: m\n  rubric: {criteria: [{id: c, description: d}]}\n' +
        '  quota: {requestsPerMinute: 3000}\n  sharedQuota: {taskQueue: acct-a, weight: 2, callsPerTask: 5, margin: 0}\n',
    );
    const { code, stdout } = await arbiter(['config', 'validate', file], {}, dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/chunks\s+5 rollouts per activity, 32 in flight per step, on the account's queue "acct-a" \(weight 2; 10 chunks\/s for all runs on it\)/);
  });

  it('reads YAML and resolves relative paths against the config file, not the cwd', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'conf'));
    const file = join(dir, 'conf', 'run.yaml');
    await writeFile(file, 'steps: 3\nrollouts:\n  type: directory\n  path: ../rollouts\noutputDir: out\nchunkSize: 4\n');

    const { code, stdout, stderr } = await arbiter(['config', 'validate', file], {}, '/');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: /);
    // The folder does not exist yet: allowed (the trainer may create it), but pointed out.
    expect(stderr).toContain(`resolved against the config file's folder ${join(dir, 'conf')}`);
    expect(stdout).toContain(join(dir, 'rollouts'));
    expect(stdout).toContain(join(dir, 'conf', 'out'));
    expect(stdout).toMatch(/chunks\s+4 rollouts per activity, 8 in flight/);
  });

  it('reads JSON, keeps absolute paths, and ignores an editor $schema key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'run.json');
    const config = { $schema: './run.schema.json', steps: 2, rollouts: { type: 'directory', path: '/data/rollouts' } };
    await writeFile(file, JSON.stringify(config));

    const { code, stdout } = await arbiter(['config', 'validate', file]);
    expect(code).toBe(0);
    expect(stdout).toContain('/data/rollouts');
    // The default output folder is left to the worker.
    expect(stdout).toMatch(/outputDir\s+runs$/m);
  });

  it('says which price the cost estimate uses: the list price of a known model, or the run’s own', async () => {
    const dir = await tempDir();
    const file = join(dir, 'run.json');
    const judge = { provider: 'bedrock', model: 'us.amazon.nova-pro-v1:0', rubric: { criteria: [{ id: 'ok', description: 'right' }] } };
    await writeFile(file, JSON.stringify({ steps: 2, rollouts: { type: 'directory', path: '/data/r' }, judge }));
    const listed = await arbiter(['config', 'validate', file]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/price\s+\$0\.8 input, \$3\.2 output per million tokens: list price, Amazon Bedrock pricing page .*; set prices\.us\.amazon\.nova-pro-v1:0 to override/);
    await writeFile(file, JSON.stringify({ steps: 2, rollouts: { type: 'directory', path: '/data/r' }, judge, prices: { 'us.amazon.nova-pro-v1:0': { inputPerMTok: 0.7, outputPerMTok: 3 } } }));
    expect((await arbiter(['config', 'validate', file])).stdout).toMatch(/price\s+\$0\.7 input, \$3 output per million tokens \(prices\.us\.amazon\.nova-pro-v1:0\)/);
  });

  it('names every bad field and exits 2', async () => {
    const dir = await tempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'steps: three\nrollouts: { type: directory }\nchunksize: 4\n');

    const { code, stdout, stderr } = await arbiter(['config', 'validate', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^ {2}steps: .*number/m);
    expect(stderr).toMatch(/^ {2}rollouts\.path: /m);
    expect(stderr).toContain('chunksize');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('reports unparsable files and missing files with exit 2', async () => {
    const dir = await tempDir();
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"steps": 2,');
    const parsed = await arbiter(['config', 'validate', broken]);
    expect(parsed.code).toBe(2);
    expect(parsed.stderr).toContain('not valid JSON');

    const missing = await arbiter(['config', 'validate', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});

describe('arbiter config schema', () => {
  it('prints a JSON Schema of the run config', async () => {
    const { code, stdout } = await arbiter(['config', 'schema']);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout);
    expect(schema.properties.steps).toMatchObject({ type: 'integer' });
    expect(schema.required).toEqual(expect.arrayContaining(['steps', 'rollouts']));
    // Input view: defaulted settings are optional.
    expect(schema.required).not.toContain('chunkSize');
  });
});
