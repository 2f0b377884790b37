import { describe, expect, it } from 'vitest';
import { resolvePaths } from '../../src/cli/load-config';
import { uiBaseUrl, workflowUrl } from '../../src/temporal/web-ui-link';
import { arbiter } from './run-cli';

describe('Web UI link', () => {
  it('prefers TEMPORAL_UI_URL', () => {
    expect(uiBaseUrl('temporal:7233', { TEMPORAL_UI_URL: 'https://ui.example/' })).toBe('https://ui.example');
  });
  it("guesses the dev server's port + 1000", () => {
    expect(uiBaseUrl('localhost:7233', {})).toBe('http://localhost:8233');
    expect(uiBaseUrl('127.0.0.1:17233', {})).toBe('http://127.0.0.1:18233');
    expect(uiBaseUrl('[::1]:7233', {})).toBe('http://[::1]:8233');
    expect(uiBaseUrl('temporal', {})).toBe('http://temporal:8233');
  });
  it('links a workflow', () => {
    expect(workflowUrl('http://localhost:8233', 'default', 'run 1')).toBe('http://localhost:8233/namespaces/default/workflows/run%201');
  });
});

describe('config path resolution', () => {
  it('resolves only the relative paths the user wrote', () => {
    expect(resolvePaths({ steps: 1, rollouts: { type: 'directory', path: 'r' }, outputDir: '/abs' }, '/base')).toEqual({
      steps: 1,
      rollouts: { type: 'directory', path: '/base/r' },
      outputDir: '/abs',
    });
    expect(resolvePaths({ rollouts: { type: 'updates' } }, '/base')).toEqual({ rollouts: { type: 'updates' } });
  });
});

describe('an unreachable server', () => {
  it('is one line naming the address, exit 1, no stack', async () => {
    const { code, stderr } = await arbiter(['run', 'status', 'any', '--address', '127.0.0.1:1']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^cannot reach Temporal at 127\.0\.0\.1:1: /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
