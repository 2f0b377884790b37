import type { ReportData } from './report-data';
import { KAPPA_UNDEFINED } from '../stats/kappa';

/** The first thing a reader sees: the run's state in sentences, not fields. */
export function headline(data: ReportData): string {
  const h = data.header;
  const done = data.steps.length;
  const of = h.totalSteps === undefined ? '' : ` of ${h.totalSteps}`;
  const scored = `${done}${of} step${done === 1 && of === '' ? '' : 's'} scored`;
  const why = h.reason ? `: ${h.reason}` : '';
  switch (h.status) {
    case 'running':
      return h.currentStep !== undefined
        ? `Run ${h.runId} is running, scoring step ${h.currentStep}; ${scored}.`
        : `Run ${h.runId} is running, waiting for its next step; ${scored}.`;
    case 'paused':
      return `Run ${h.runId} is paused after ${scored}${why ? `, because ${h.reason}` : ' (no reason given)'}.`;
    case 'completed':
      return `Run ${h.runId} completed: ${scored}.`;
    case 'cancelled':
      return `Run ${h.runId} was cancelled after ${scored}${why}.`;
    case 'unknown':
      return `Run ${h.runId}: ${scored}; its status is unknown${why}.`;
    default:
      return `Run ${h.runId} ${h.status}${why}; ${scored}.`;
  }
}

/** Totals and the judge, in a few short sentences under the headline. */
export function details(data: ReportData): string[] {
  const h = data.header;
  const lines: string[] = [];
  lines.push(h.judgeModel ? `Judge: ${h.judgeModel}.` : 'Judge: not recorded.');
  let rollouts = 0;
  let failed = 0;
  let input = 0;
  let output = 0;
  let cacheRead = 0;
  let cacheWrite = 0;
  let cost = 0;
  let quarantined = 0;
  for (const { summary: s } of data.steps) {
    rollouts += s.count;
    failed += s.fallback + s.excluded;
    input += s.inputTokens;
    output += s.outputTokens;
    cacheRead += s.cacheReadInputTokens ?? 0;
    cacheWrite += s.cacheWriteInputTokens ?? 0;
    cost += s.costUsd;
    quarantined += s.quarantined;
  }
  if (data.steps.length > 0) {
    const last = data.steps.at(-1)!;
    lines.push(
      `${count(rollouts, 'rollout')} judged, ${count(failed, 'fallback')} (${pct(rollouts === 0 ? 0 : failed / rollouts)}), ` +
        `${count(quarantined, 'quarantined line')}. Last step (${last.step}): reward mean ${last.reward.mean.toFixed(3)}, ` +
        `fallback rate ${pct(last.summary.fallbackRate)}.`,
    );
    const cache = cacheRead + cacheWrite > 0 ? `, ${fmt(cacheRead)} read from and ${fmt(cacheWrite)} written to the prompt cache` : '';
    lines.push(`Tokens: ${fmt(input)} in, ${fmt(output)} out${cache}; estimated cost $${cost.toFixed(4)}.`);
  }
  const a = h.agreement;
  if (a && a.reviews > 0) {
    lines.push(
      `Human review: ${count(a.reviews, 'answer')}, agreeing with the judge ${a.accuracy === null ? 'n/a' : pct(a.accuracy)} of the time ` +
        `(kappa ${a.kappa === null ? KAPPA_UNDEFINED : a.kappa.toFixed(2)}).`,
    );
  }
  lines.push(`Status from ${h.statusSource}.`);
  return lines;
}

function count(n: number, noun: string): string {
  return `${fmt(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
