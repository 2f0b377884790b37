import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJudgeUrl, checkOutputDir, checkRolloutDir, checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal } from '../../src/config/worker-settings';
import { tempDir } from '../support/fixtures';

describe('worker settings from the environment', () => {
  it('allows loopback judges and the working directory by default', () => {
    expect(workerSettingsFromEnv({}, '/srv/arbiter')).toEqual({ allowedJudgeUrls: ['loopback'], allowedRolloutDirs: ['/srv/arbiter'], allowedOutputDirs: ['/srv/arbiter'] });
  });

  it('reads comma-separated lists and always allows OPENAI_BASE_URL', () => {
    const s = workerSettingsFromEnv(
      { ARBITER_ALLOWED_JUDGE_URLS: 'https://vllm.internal:8000/v1, https://api.openai.com', ARBITER_ALLOWED_ROLLOUT_DIRS: 'data,/shared/rollouts', OPENAI_BASE_URL: 'http://gpu-1:8000/v1' },
      '/srv/arbiter',
    );
    expect(s.allowedJudgeUrls).toEqual(['https://vllm.internal:8000/v1', 'https://api.openai.com', 'http://gpu-1:8000/v1']);
    expect(s.allowedRolloutDirs).toEqual(['/srv/arbiter/data', '/shared/rollouts']);
  });
});

describe('checkJudgeUrl', () => {
  const allowed = ['loopback', 'https://vllm.internal:8000/v1'];
  it.each([
    'http://localhost:11434/v1',
    'http://127.0.0.1:8000/v1',
    'http://[::1]:9000/v1',
    'https://vllm.internal:8000/v1',
    'https://vllm.internal:8000/v1/',
  ])('allows %s', (url) => {
    expect(() => checkJudgeUrl(url, allowed)).not.toThrow();
  });

  it.each([
    'https://evil.example/v1',
    'https://vllm.internal:8001/v1',
    'http://vllm.internal:8000/v1',
    'https://vllm.internal:8000/v10',
    'https://vllm.internal:8000/v1/../../admin',
    'https://vllm.internal:8000@evil.example/v1',
    'http://localhost.evil.example/v1',
  ])('refuses %s, naming it and ARBITER_ALLOWED_JUDGE_URLS', (url) => {
    expect(() => checkJudgeUrl(url, allowed)).toThrow(WorkerSettingsRefusal);
    expect(() => checkJudgeUrl(url, allowed)).toThrow(/ARBITER_ALLOWED_JUDGE_URLS/);
  });

  it('names the refused URL', () => {
    expect(() => checkJudgeUrl('https://evil.example/v1', allowed)).toThrow(/judge\.baseUrl https:\/\/evil\.example\/v1 is not allowed/);
  });
});

describe('checkRolloutFile', () => {
  it('allows files inside an allowed folder and refuses others after resolving .. and symlinks', async () => {
    const root = await tempDir();
    const allowedDir = join(root, 'allowed');
    const secretDir = join(root, 'secret');
    await mkdir(allowedDir);
    await mkdir(secretDir);
    await writeFile(join(allowedDir, 'step.jsonl'), '');
    await writeFile(join(secretDir, 'credentials'), 'key');
    await symlink(join(secretDir, 'credentials'), join(allowedDir, 'link.jsonl'));
    const dirs = [allowedDir];

    await expect(checkRolloutFile(join(allowedDir, 'step.jsonl'), dirs)).resolves.toBe(join(allowedDir, 'step.jsonl'));
    for (const escape of [join(secretDir, 'credentials'), join(allowedDir, '..', 'secret', 'credentials'), join(allowedDir, 'link.jsonl')]) {
      await expect(checkRolloutFile(escape, dirs)).rejects.toThrow(WorkerSettingsRefusal);
      await expect(checkRolloutFile(escape, dirs)).rejects.toThrow(new RegExp(`${escape.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .*ARBITER_ALLOWED_ROLLOUT_DIRS`));
    }
    // A folder whose name merely starts like an allowed one is another folder.
    await mkdir(`${allowedDir}-2`);
    await writeFile(join(`${allowedDir}-2`, 'x.jsonl'), '');
    await expect(checkRolloutFile(join(`${allowedDir}-2`, 'x.jsonl'), dirs)).rejects.toThrow(WorkerSettingsRefusal);
  });
});

describe('S3 buckets and prefixes in the allowlists', () => {
  const settings = workerSettingsFromEnv(
    { ARBITER_ALLOWED_ROLLOUT_DIRS: 'data, s3://team-rollouts/rft/', ARBITER_ALLOWED_OUTPUT_DIRS: 's3://team-runs' },
    '/srv/arbiter',
  );

  it('keeps s3:// entries as locations, not paths under the working directory', () => {
    expect(settings.allowedRolloutDirs).toEqual(['/srv/arbiter/data', 's3://team-rollouts/rft']);
    expect(settings.allowedOutputDirs).toEqual(['s3://team-runs/']);
  });

  it.each(['s3://team-rollouts/rft/step-000001.jsonl', 's3://team-rollouts/rft/a/b/step-000001.jsonl', 's3://team-rollouts/rft/x/../step-000001.jsonl'])(
    'allows %s under the allowed prefix',
    async (file) => {
      expect(await checkRolloutFile(file, settings.allowedRolloutDirs)).toBe(file.replace('x/../', ''));
    },
  );

  it.each([
    's3://team-rollouts/rft2/step-000001.jsonl',
    's3://team-rollouts/rft/../secrets/step-000001.jsonl',
    's3://other-bucket/rft/step-000001.jsonl',
    's3://team-rollouts/step-000001.jsonl',
  ])('refuses %s, naming the setting', async (file) => {
    await expect(checkRolloutFile(file, settings.allowedRolloutDirs)).rejects.toThrow(WorkerSettingsRefusal);
    await expect(checkRolloutFile(file, settings.allowedRolloutDirs)).rejects.toThrow(/ARBITER_ALLOWED_ROLLOUT_DIRS/);
  });

  it('checks rollout folders and output folders the same way, and never lets a path entry allow a bucket', async () => {
    await expect(checkRolloutDir('s3://team-rollouts/rft/run-7', settings.allowedRolloutDirs)).resolves.toBeUndefined();
    await expect(checkRolloutDir('s3://team-rollouts/other', settings.allowedRolloutDirs)).rejects.toThrow(WorkerSettingsRefusal);
    await expect(checkOutputDir('s3://team-runs/runs', settings.allowedOutputDirs!)).resolves.toBeUndefined();
    await expect(checkOutputDir('s3://team-runs-2/runs', settings.allowedOutputDirs!)).rejects.toThrow(/ARBITER_ALLOWED_OUTPUT_DIRS/);
    await expect(checkOutputDir('s3://team-runs/runs', ['/srv/arbiter'])).rejects.toThrow(WorkerSettingsRefusal);
    await expect(checkOutputDir('/srv/arbiter/runs', ['s3://team-runs/'])).rejects.toThrow(WorkerSettingsRefusal);
  });
});
