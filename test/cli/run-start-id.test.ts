import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { tempDir } from '../support/fixtures';
import { arbiter } from './run-cli';

describe('arbiter run start --id', () => {
  it('refuses an --id that disagrees with the config\'s runId, naming both, and starts nothing', async () => {
    const dir = await tempDir();
    const config = join(dir, 'run.yaml');
    await writeFile(config, ['runId: from-config', 'steps: 1', 'rollouts: { type: directory, path: rollouts }'].join('\n'));
    const result = await arbiter(['run', 'start', config, '--id', 'from-flag'], { TEMPORAL_ADDRESS: inject('temporalAddress') });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--id from-flag');
    expect(result.stderr).toContain('runId from-config');
    expect(result.stdout).not.toContain('started run');
  });
});
