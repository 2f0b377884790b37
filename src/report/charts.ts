import type { TopLevelSpec } from 'vega-lite';
import type { ReportData, StepRow } from './report-data';
import { spearmanRho } from '../stats/rank-correlation';
import { OFFLINE_HEURISTIC_PROVIDER } from '../judges/offline-heuristic';

/** One figure of the report: a Vega-Lite spec, or why the run has nothing to draw there. */
export interface Chart {
  id: string;
  title: string;
  /** What to look for, in a sentence or two. */
  caption: string;
  spec: TopLevelSpec | undefined;
  /** Shown instead of the chart when spec is undefined: why there is nothing to draw, in a sentence or two. */
  absent?: string;
}

const WIDTH = 620;
const HEIGHT = 200;

type Row = Record<string, string | number | null>;

/** Every chart of the report, in reading order. */
export function reportCharts(data: ReportData): Chart[] {
  const steps = data.steps;
  return [
    rewardChart(steps),
    componentsChart(steps),
    criteriaChart(steps),
    fallbackChart(steps),
    quarantineChart(steps),
    tokensChart(steps, data.header.judgeProvider),
    costChart(steps, data.header.judgeProvider),
    agreementChart(data),
    lengthChart(data),
  ];
}

export function base(description: string, points: boolean): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    config: {
      font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eee' },
      legend: { labelFontSize: 11, titleFontSize: 11, orient: 'right' },
      line: { point: points, strokeWidth: 2 },
      // One ARIA label per dot or bar is most of a big run's page; each chart keeps its description.
      point: { aria: false },
      bar: { aria: false },
      view: { stroke: null },
    },
  };
}

const stepAxis = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1, format: 'd' } } as const;

/**
 * Bars on the quantitative step axis, each from step-0.4 to step+0.4: the axis stays as readable
 * at 1,000 steps as at 5 (an ordinal axis would emit a hidden label per step).
 */
export const barAround = [
  { calculate: 'datum.step - 0.4', as: 'from' },
  { calculate: 'datum.step + 0.4', as: 'to' },
];
export const barX = { x: { ...stepAxis, field: 'from', scale: { nice: false, zero: false } }, x2: { field: 'to' } };

/** Markers on lines while there are few enough steps to tell them apart. */
function fewSteps(steps: StepRow[]): boolean {
  return steps.length <= 60;
}

/** A y scale from 0 that still has ticks when every value is 0 (Vega draws NaN ticks for a [0, 0] domain). */
function fromZero(values: number[]): Record<string, unknown> {
  return values.some((v) => v > 0) ? { zero: true } : { domain: [0, 1] };
}

/** A chart the run has nothing to draw in (no data, or a series that is 0 throughout): why, in words. */
export function none(id: string, title: string, caption: string, absent: string): Chart {
  return { id, title, caption, spec: undefined, absent };
}

const NOT_SCORED = 'No step has been scored yet.';

/** Why a run's judge was billed no tokens (and so cost nothing). */
function noTokens(judgeProvider: string | undefined): string {
  return judgeProvider === OFFLINE_HEURISTIC_PROVIDER
    ? 'the offline heuristic judge (not an LLM) makes no model calls.'
    : 'no judge call was billed any (judgements taken from the judge cache cost none).';
}

const MEDIAN = 'median (p50)';

function rewardChart(steps: StepRow[]): Chart {
  const id = 'reward';
  const title = 'Reward per step';
  const caption = 'Mean and median (p50) reward, with the band from p10 to p90. A rising mean with a band that stays wide is learning; a band collapsing to one value can be reward hacking.';
  if (steps.length === 0) return none(id, title, caption, NOT_SCORED);
  const band = steps.filter((s) => s.reward.p10 !== undefined).map((s) => ({ step: s.step, p10: s.reward.p10!, p90: s.reward.p90 }));
  const lines: Row[] = steps.flatMap((s) => [
    { step: s.step, statistic: 'mean', reward: s.reward.mean },
    { step: s.step, statistic: MEDIAN, reward: s.reward.p50 },
  ]);
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('reward mean, p50 and the p10-p90 band per step', fewSteps(steps)),
      layer: [
        {
          data: { values: band },
          mark: { type: 'area', opacity: 0.18, color: '#4c78a8' },
          encoding: { x: stepAxis, y: { field: 'p10', type: 'quantitative', title: 'reward' }, y2: { field: 'p90' } },
        },
        {
          data: { values: lines },
          mark: { type: 'line' },
          encoding: {
            x: stepAxis,
            y: { field: 'reward', type: 'quantitative', title: 'reward' },
            // Colour and dash share one legend (a legend: null on either drops it): each line has its entry, drawn as the line is.
            color: {
              field: 'statistic',
              type: 'nominal',
              title: 'statistic',
              scale: { domain: ['mean', MEDIAN], range: ['#1f4e79', '#f58518'] },
              legend: { symbolType: 'stroke', symbolStrokeWidth: 2 },
            },
            strokeDash: { field: 'statistic', type: 'nominal', title: 'statistic', scale: { domain: ['mean', MEDIAN], range: [[1, 0], [5, 3]] } },
          },
        },
      ],
    }),
  };
}

function componentsChart(steps: StepRow[]): Chart {
  const id = 'components';
  const title = 'Reward components per step';
  const caption = 'Mean of each component before weighting (each in 0..1): which part of the reward moves.';
  const values: Row[] = steps.flatMap((s) => Object.entries(s.summary.componentMeans).map(([component, mean]) => ({ step: s.step, component, mean })));
  if (values.length === 0) return none(id, title, caption, 'No step recorded component means.');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('mean of each reward component per step', fewSteps(steps)),
      data: { values },
      mark: 'line',
      encoding: {
        x: stepAxis,
        y: { field: 'mean', type: 'quantitative', title: 'component mean', scale: { domain: [0, 1] } },
        color: { field: 'component', type: 'nominal', title: 'component' },
      },
    }),
  };
}

function criteriaChart(steps: StepRow[]): Chart {
  const id = 'criteria';
  const title = 'Pass rate per rubric criterion';
  const caption = "Share of judged rollouts that pass each criterion of the rubric, per step (from the rewards files). A criterion stuck near 0 or 1 tells the judge nothing.";
  const values: Row[] = steps.flatMap((s) => Object.entries(s.criteria).map(([criterion, rate]) => ({ step: s.step, criterion, rate })));
  if (values.length === 0) {
    return none(id, title, caption, 'The rewards files hold no per-criterion verdicts (a preference-mode run, or records written before they were kept).');
  }
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('pass rate of each rubric criterion per step', fewSteps(steps)),
      data: { values },
      mark: 'line',
      encoding: {
        x: stepAxis,
        y: { field: 'rate', type: 'quantitative', title: 'pass rate', scale: { domain: [0, 1] }, axis: { format: '%' } },
        color: { field: 'criterion', type: 'nominal', title: 'criterion' },
      },
    }),
  };
}

function fallbackChart(steps: StepRow[]): Chart {
  const id = 'fallback';
  const title = 'Fallback rate by reason';
  const caption = 'Share of rollouts per step whose judge call failed and got the fallback reward (or were excluded), by the reason it failed.';
  if (steps.length === 0) return none(id, title, caption, NOT_SCORED);
  const values: Row[] = [];
  for (const s of steps) {
    const { count, fallback, excluded, fallbackByReason } = s.summary;
    const failed = fallback + excluded;
    let explained = 0;
    for (const [reason, n] of Object.entries(fallbackByReason)) {
      explained += n ?? 0;
      values.push({ step: s.step, reason, rate: count === 0 ? 0 : (n ?? 0) / count });
    }
    if (failed > explained) values.push({ step: s.step, reason: 'no reason recorded', rate: count === 0 ? 0 : (failed - explained) / count });
  }
  if (!values.some((v) => Number(v.rate) > 0)) return none(id, title, caption, 'No fallbacks in this run: every rollout was judged.');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('fallback rate by reason per step', false),
      data: { values },
      // Stacked by hand: a bar with an x range is not stacked by Vega-Lite itself.
      transform: [...barAround, { stack: 'rate', groupby: ['step'], sort: [{ field: 'reason' }], as: ['rate0', 'rate1'] }],
      mark: { type: 'bar' },
      encoding: {
        ...barX,
        y: { field: 'rate0', type: 'quantitative', title: 'share of rollouts', axis: { format: '%' }, scale: fromZero(values.map((v) => Number(v.rate))) },
        y2: { field: 'rate1' },
        color: { field: 'reason', type: 'nominal', title: 'reason' },
      },
    }),
  };
}

function quarantineChart(steps: StepRow[]): Chart {
  const id = 'quarantine';
  const title = 'Quarantined lines per step';
  const caption = "Lines of the trainer's step file that were not valid rollouts and were set aside (steps/NNNNNN.quarantine.jsonl).";
  if (steps.length === 0) return none(id, title, caption, NOT_SCORED);
  const values = steps.map((s) => ({ step: s.step, quarantined: s.summary.quarantined }));
  if (!values.some((v) => v.quarantined > 0)) return none(id, title, caption, "No quarantined lines: every line of the trainer's step files was a rollout.");
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('quarantined lines per step', false),
      data: { values },
      transform: barAround,
      mark: { type: 'bar', color: '#e45756' },
      encoding: {
        ...barX,
        y: { field: 'quarantined', type: 'quantitative', title: 'quarantined lines', axis: { tickMinStep: 1 }, scale: fromZero(values.map((v) => v.quarantined)) },
        y2: { datum: 0 },
      },
    }),
  };
}

function tokensChart(steps: StepRow[], judgeProvider: string | undefined): Chart {
  const id = 'tokens';
  const title = 'Judge tokens per step';
  // Summaries count cache tokens (0) even for models without prompt caching: draw them once there are some.
  const hasCache = steps.some((s) => (s.summary.cacheReadInputTokens ?? 0) + (s.summary.cacheWriteInputTokens ?? 0) > 0);
  const caption = hasCache
    ? 'Tokens billed per step: input at full price, prompt-cache reads and writes (priced differently), and output.'
    : 'Input and output tokens billed per step (judgements taken from the judge cache cost none).';
  if (steps.length === 0) return none(id, title, caption, NOT_SCORED);
  const values: Row[] = steps.flatMap((s) => {
    const rows: Row[] = [
      { step: s.step, kind: 'input', tokens: s.summary.inputTokens },
      { step: s.step, kind: 'output', tokens: s.summary.outputTokens },
    ];
    if (hasCache) {
      rows.push({ step: s.step, kind: 'cache read', tokens: s.summary.cacheReadInputTokens ?? 0 });
      rows.push({ step: s.step, kind: 'cache write', tokens: s.summary.cacheWriteInputTokens ?? 0 });
    }
    return rows;
  });
  if (!values.some((v) => Number(v.tokens) > 0)) return none(id, title, caption, `No tokens: ${noTokens(judgeProvider)}`);
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('judge tokens per step by kind', fewSteps(steps)),
      data: { values },
      mark: 'line',
      encoding: {
        x: stepAxis,
        y: { field: 'tokens', type: 'quantitative', title: 'tokens', axis: { format: '~s' }, scale: fromZero(values.map((v) => Number(v.tokens))) },
        color: { field: 'kind', type: 'nominal', title: 'tokens', scale: { domain: hasCache ? ['input', 'output', 'cache read', 'cache write'] : ['input', 'output'] } },
      },
    }),
  };
}

function costChart(steps: StepRow[], judgeProvider: string | undefined): Chart {
  const id = 'cost';
  const title = 'Estimated cost and tokens, cumulative';
  const caption = "Estimated judge cost per step (from the run's prices, else Arbiter's list prices; 0 when the model has neither), then the run's cost and tokens added up step by step.";
  if (steps.length === 0) return none(id, title, caption, NOT_SCORED);
  let cost = 0;
  let tokens = 0;
  const values: Row[] = [];
  for (const s of steps) {
    const sum = s.summary;
    cost += sum.costUsd;
    tokens += sum.inputTokens + sum.outputTokens + (sum.cacheReadInputTokens ?? 0) + (sum.cacheWriteInputTokens ?? 0);
    values.push({ step: s.step, cost: sum.costUsd, cumulativeCost: round6(cost), cumulativeTokens: tokens });
  }
  if (tokens === 0) return none(id, title, caption, `No cost: ${noTokens(judgeProvider)}`);
  if (cost === 0) return none(id, title, caption, "No cost: the model has no price in the run's config nor in Arbiter's list prices; add one under `prices` to estimate it.");
  const y = (field: string, title: string, format: string) => ({
    field,
    type: 'quantitative',
    title,
    axis: { format },
    scale: fromZero(values.map((v) => Number(v[field]))),
  });
  const panel = (field: string, title: string, format: string, mark: Record<string, unknown>) => ({
    width: WIDTH,
    height: 90,
    mark,
    encoding: { x: stepAxis, y: y(field, title, format) },
  });
  const marks = fewSteps(steps);
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('estimated cost per step, cumulative cost and cumulative tokens', marks),
      data: { values },
      vconcat: [
        {
          ...panel('cost', 'USD per step', '$.4~f', { type: 'bar', color: '#72b7b2' }),
          transform: barAround,
          encoding: { ...barX, y: y('cost', 'USD per step', '$.4~f'), y2: { datum: 0 } },
        },
        panel('cumulativeCost', 'USD so far', '$.4~f', { type: 'line', color: '#54a24b', point: marks }),
        panel('cumulativeTokens', 'tokens so far', '~s', { type: 'line', color: '#b279a2', point: marks }),
      ],
    }),
  };
}

function agreementChart(data: ReportData): Chart {
  const id = 'agreement';
  const title = 'Judge–human agreement and canary accuracy';
  const caption =
    "Per step: how often human reviewers gave the judge's pass/fail (accuracy) and Cohen's kappa (agreement beyond chance), and the judge's accuracy and kappa on canaries, rollouts whose right verdict is known. " +
    'Both kappas are computed alike, and a step has no kappa point where kappa is undefined: the judge and the people (or the gold labels) gave every item the same verdict, all pass say, so no agreement beyond chance was possible to show.';
  const values: Row[] = [];
  for (const a of data.humanAgreement) {
    if (a.accuracy !== null) values.push({ step: a.step, measure: 'human accuracy', value: a.accuracy });
    if (a.kappa !== null) values.push({ step: a.step, measure: 'human kappa', value: a.kappa });
  }
  for (const s of data.steps) {
    const canary = s.summary.canary;
    if (!canary) continue;
    if (canary.accuracy !== null && canary.accuracy !== undefined) values.push({ step: s.step, measure: 'canary accuracy', value: canary.accuracy });
    if (canary.kappa !== null && canary.kappa !== undefined) values.push({ step: s.step, measure: 'canary kappa', value: canary.kappa });
  }
  if (values.length === 0) return none(id, title, caption, 'No human review has been answered and no step checked canaries.');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('judge-human agreement and canary accuracy per step', true),
      data: { values: values.sort((a, b) => Number(a.step) - Number(b.step)) },
      // Points show a measure taken at a few steps only (reviews are sampled); a dense series needs none.
      mark: { type: 'line', point: values.length <= 240, clip: true },
      encoding: {
        x: stepAxis,
        y: { field: 'value', type: 'quantitative', title: 'accuracy / kappa', scale: { domainMax: 1 } },
        color: { field: 'measure', type: 'nominal', title: 'measure' },
      },
    }),
  };
}

function lengthChart(data: ReportData): Chart {
  const id = 'length';
  const title = 'Reward against response length';
  const points = data.lengthPoints;
  // Spearman's ρ from src/stats (ties share their average rank), said only from 3 points up: two points always rank ±1.
  const ranked = points.filter((p) => Number.isFinite(p.chars) && Number.isFinite(p.reward));
  const rho = ranked.length >= 3 ? spearmanRho(ranked.map((p) => p.chars), ranked.map((p) => p.reward)) : Number.NaN;
  const sampled = points.length < data.lengthRecords ? ` Showing a sample of ${points.length} of ${data.lengthRecords} rollouts.` : '';
  const caption =
    'Each dot is a rollout. A reward that climbs with length while quality does not is the classic way a policy games a judge.' +
    (Number.isFinite(rho) ? ` Spearman's rank correlation: ${rho.toFixed(2)}.` : '') +
    sampled;
  if (points.length === 0) return none(id, title, caption, 'The rewards files record no response lengths (written before they were kept).');
  const layer: unknown[] = [
    {
      mark: { type: 'point', filled: true, opacity: 0.6, size: 30 },
      encoding: {
        x: { field: 'chars', type: 'quantitative', title: 'response length (characters)', axis: { format: '~s' } },
        y: { field: 'reward', type: 'quantitative', title: 'reward' },
        color: { field: 'status', type: 'nominal', title: 'status', scale: { domain: ['scored', 'fallback'], range: ['#4c78a8', '#e45756'] } },
      },
    },
  ];
  if (points.length >= 10) {
    layer.push({
      transform: [{ loess: 'reward', on: 'chars' }],
      mark: { type: 'line', color: '#333', strokeWidth: 2 },
      encoding: { x: { field: 'chars', type: 'quantitative' }, y: { field: 'reward', type: 'quantitative' } },
    });
  }
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base('reward against response length, one point per rollout', false),
      data: { values: points.map((p) => ({ step: p.step, chars: p.chars, reward: p.reward, status: p.status })) },
      layer,
    }),
  };
}

/** The specs are plain JSON checked where it counts, by compiling and rendering them (tests render every chart). */
export function vl(spec: Record<string, unknown>): TopLevelSpec {
  return spec as unknown as TopLevelSpec;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
