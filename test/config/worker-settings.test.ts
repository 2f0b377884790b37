import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkJudgeUrl, checkRolloutFile, workerSettingsFromEnv, WorkerSettingsRefusal } from '../../src/config/worker-settings';
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
