import { describe, expect, it } from 'vitest';
import { progressReport, stepLine } from '../../src/cli/format-progress';
import type { StepSummary } from '../../src/contract/step-summary';
import { progressMarkdown, type RunProgress } from '../../workflows/progress';

const summary: StepSummary = {
  step: 2,
  count: 4,
  scored: 4,
  fallback: 0,
  excluded: 0,
  quarantined: 0,
  fallbackRate: 0,
  fallbackByReason: {},
  reward: { mean: 0.5, std: 0.5, min: 0, p50: 1, p90: 1, max: 1 },
  componentMeans: {},
  inputTokens: 400,
  outputTokens: 80,
  cached: 0,
  calls: 4,
  costUsd: 0.001,
};

describe('prompt-cache tokens in what people read', () => {
  it('a step line names the cache reads when the cache served any, and says nothing of the cache otherwise', () => {
    expect(stepLine(summary)).not.toContain('cache');
    expect(stepLine({ ...summary, cacheReadInputTokens: 6144, cacheWriteInputTokens: 0 })).toContain('tokens 480 (cache read 6144)');
  });
});

const progress = (totals: RunProgress['totals']): RunProgress => ({
  runId: 'r',
  status: 'running',
  reason: undefined,
  totalSteps: 3,
  stepsDone: 2,
  currentStep: undefined,
  nextStep: 3,
  inStep: undefined,
  lastStep: summary,
  recent: [summary],
  totals,
  judgeModel: 'm',
  agreement: { reviews: 0, agree: 0, accuracy: null, kappa: null, matrix: { jp_hp: 0, jp_hf: 0, jf_hp: 0, jf_hf: 0 } },
  openReviews: [],
});

describe('run totals', () => {
  const base = { rollouts: 8, fallbacks: 0, inputTokens: 800, outputTokens: 160, costUsd: 0.002 };
  it('show cache reads and writes beside the input tokens in run status and the Web UI details', () => {
    const p = progress({ ...base, cacheReadInputTokens: 12288, cacheWriteInputTokens: 2048 });
    expect(progressReport('r', p)).toContain('tokens 800 in (+ cache 12288 read, 2048 written) / 160 out');
    expect(progressMarkdown(p)).toContain('tokens 800 in (+ cache 12288 read, 2048 written) / 160 out');
  });
  it('leave the cache out when it did nothing, and accept totals carried from runs that never counted it', () => {
    expect(progressReport('r', progress(base))).toContain('tokens 800 in / 160 out');
    expect(progressMarkdown(progress({ ...base, cacheReadInputTokens: 0, cacheWriteInputTokens: 0 }))).toContain('tokens 800 in / 160 out');
  });
});
