import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { MAX_INLINE_ROLLOUTS } from '../config/controls';
import type { Rollout } from '../config/rollout';
import type { RunConfigInput } from '../config/run-config';
import { readManifest } from '../contract/manifest';
import type { RewardRecord } from '../contract/reward-record';
import type { StepSummary } from '../steps/step-summary';
import { configQuery, progressQuery, submitRolloutsUpdate } from '../../workflows/definitions';
import { rftRun } from '../../workflows/rft-run';
import { HttpError, isRollover } from './http-error';

/** Under the run's own limit (256 KiB of inline rollouts), with room for the request's envelope. */
const MAX_INLINE_BYTES = 240 * 1024;
/** How long a submission waits, in total, for a run that is moving to a fresh history. */
const ROLLOVER_PATIENCE_MS = 120_000;

/** One reward as the service hands it out: the number, whether to trust it, and why. */
export interface ServedReward {
  id: string;
  /** null when the sample was excluded: there is no reward to train on. */
  reward: number | null;
  status: string;
  flags: string[];
  /** Each component's value in [0, 1] before weighting; present when the service can read the run's rewards file. */
  breakdown?: Record<string, number>;
}

export interface StepResult {
  step: number;
  summary: StepSummary;
  file: string;
  /** By rollout id, for the whole step. */
  rewards: Map<string, ServedReward>;
}

/** A step the run checkpointed: its summary and its rewards file (as this service sees the run folder). */
export interface ScoredStep {
  step: number;
  summary: StepSummary;
  file: string;
}

export interface GatewayOptions {
  client: Client;
  taskQueue: string;
  /** Where batches over the inline limit are written (a folder the workers may read). */
  spillDir: string;
  /** Runs not yet started are started with this config (Update-with-Start); without it an unknown run is a 404. */
  runTemplate?: RunConfigInput;
}

/**
 * The service's only way into a run: submitRollouts (with Update-with-Start when the service
 * has a run template), the progress and config queries, and the run's rewards file.
 */
export class RunGateway {
  constructor(private readonly options: GatewayOptions) {}

  get client(): Client {
    return this.options.client;
  }

  /** Submits one whole step; waits until it is scored. A run moving to a fresh history is waited for. */
  async submitStep(runId: string, step: number, rollouts: Rollout[]): Promise<StepResult> {
    const bytes = Buffer.byteLength(JSON.stringify(rollouts));
    const byPath = rollouts.length > MAX_INLINE_ROLLOUTS || bytes > MAX_INLINE_BYTES;
    const request = byPath ? { step, path: await this.spill(runId, step, rollouts) } : { step, rollouts };
    const deadline = Date.now() + ROLLOVER_PATIENCE_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.execute(runId, request);
        const records = await this.readRewards(result.file);
        const rewards = new Map<string, ServedReward>();
        for (const r of result.rewards ?? []) rewards.set(r.id, { ...r });
        for (const r of records ?? []) rewards.set(r.id, { id: r.id, reward: r.reward, status: r.status, flags: r.flags, breakdown: r.breakdown });
        if (byPath && !records) {
          throw new HttpError(500, 'rewards_unreadable', `step ${step} was scored but its rewards file ${result.file} cannot be read by the service: run the service where the run folder is visible`);
        }
        return { step: result.step, summary: result.summary, file: result.file, rewards };
      } catch (err) {
        if (!isRollover(err) || Date.now() > deadline) throw err;
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      }
    }
  }

  /** The first step number no one has sent yet, as far as the run knows. */
  async nextStep(runId: string): Promise<number> {
    const handle = this.client.workflow.getHandle(runId);
    const [progress, config] = await Promise.all([handle.query(progressQuery), handle.query(configQuery)]);
    return Math.max(config.firstStep, (progress.lastStep?.step ?? -1) + 1, (progress.currentStep ?? -1) + 1);
  }

  /** The run's rewards file for a step, when the service can see the run folder. */
  async rewardsOfStep(runId: string, step: number): Promise<RewardRecord[] | undefined> {
    return this.readRewards(join(await this.runDir(runId), 'steps', `${String(step).padStart(6, '0')}.rewards.jsonl`));
  }

  /**
   * Every step the run checkpointed, from its manifest: to find a retried request's rewards after
   * a restart, however long ago it was scored. Empty when the service cannot see the run folder.
   */
  async scoredSteps(runId: string): Promise<ScoredStep[]> {
    const runDir = await this.runDir(runId);
    return (await readManifest(join(runDir, 'manifest.jsonl'))).map((l) => ({ step: l.step, summary: l.summary, file: join(runDir, l.file) }));
  }

  private async runDir(runId: string): Promise<string> {
    const config = await this.client.workflow.getHandle(runId).query(configQuery);
    return join(config.outputDir, config.runId ?? runId);
  }

  async readRewards(file: string): Promise<RewardRecord[] | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as RewardRecord);
  }

  private execute(runId: string, request: { step: number; rollouts?: Rollout[]; path?: string }) {
    const { client, taskQueue, runTemplate } = this.options;
    if (!runTemplate) return client.workflow.getHandle(runId).executeUpdate(submitRolloutsUpdate, { args: [request] });
    return client.workflow.executeUpdateWithStart(submitRolloutsUpdate, {
      args: [request],
      startWorkflowOperation: new WithStartWorkflowOperation(rftRun, {
        workflowId: runId,
        taskQueue,
        args: [{ ...runTemplate, runId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        // A run that ended stays ended: its folder belongs to it.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `run ${runId}, fed by arbiter serve`,
      }),
    });
  }

  private async spill(runId: string, step: number, rollouts: Rollout[]): Promise<string> {
    const dir = join(this.options.spillDir, runId);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `step-${String(step).padStart(6, '0')}-${randomUUID().slice(0, 8)}.jsonl`);
    await writeFile(file, rollouts.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return file;
  }
}
