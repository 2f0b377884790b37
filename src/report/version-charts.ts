import type { VersionDiff } from '../versions/version-diff';
import { barAround, barX, base, none, vl, type Chart } from './charts';

/** The charts of one version against the original, for the report's Versions section. */
export function versionCharts(diff: VersionDiff): Chart[] {
  return [shiftChart(diff), histogramChart(diff), criteriaChart(diff)];
}

function shiftChart(diff: VersionDiff): Chart {
  const id = `version-${diff.b}-shift`;
  const title = `${diff.b}: mean reward shift per step`;
  const caption = `Mean of ${diff.b} − ${diff.a} over the rollouts scored in both, per step. Fallback and excluded rollouts are left out of it (counted in the table below).`;
  const values = diff.steps.filter((s) => s.meanShift !== null).map((s) => ({ step: s.step, shift: s.meanShift }));
  if (values.length === 0) return none(id, title, caption, 'No step was scored in both versions.');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base(`mean reward shift of ${diff.b} per step`, false),
      data: { values },
      transform: barAround,
      mark: { type: 'bar', color: '#4c78a8' },
      encoding: { ...barX, y: { field: 'shift', type: 'quantitative', title: 'mean shift' } },
    }),
  };
}

function histogramChart(diff: VersionDiff): Chart {
  const id = `version-${diff.b}-histogram`;
  const title = `${diff.b}: changed rewards by shift`;
  const caption = `How far each changed reward moved (${diff.b} − ${diff.a}), in bins of ${diff.options.binWidth}; ${diff.overall.compared - diff.overall.changed} compared rollouts kept their reward.`;
  const values = diff.overall.shifts.histogram;
  if (values.length === 0) return none(id, title, caption, 'No reward changed.');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base(`histogram of reward shifts of ${diff.b}`, false),
      data: { values },
      mark: { type: 'bar', color: '#f58518' },
      encoding: {
        x: { field: 'from', type: 'quantitative', title: 'reward shift', bin: { binned: true, step: diff.options.binWidth } },
        x2: { field: 'to' },
        y: { field: 'count', type: 'quantitative', title: 'rollouts' },
      },
    }),
  };
}

function criteriaChart(diff: VersionDiff): Chart {
  const id = `version-${diff.b}-criteria`;
  const title = `${diff.b}: pass rate per criterion`;
  const caption = `Each criterion's pass rate in ${diff.a} and ${diff.b}, over the rollouts scored in both, the criteria that moved most first.`;
  const order = diff.overall.criteria.map((c) => c.id);
  const values = diff.overall.criteria.flatMap((c) => [
    ...(c.passRateA === null ? [] : [{ criterion: c.id, version: diff.a, rate: c.passRateA }]),
    ...(c.passRateB === null ? [] : [{ criterion: c.id, version: diff.b, rate: c.passRateB }]),
  ]);
  if (values.length === 0) return none(id, title, caption, 'Neither version holds per-criterion verdicts (preference mode, or records from before they were kept).');
  return {
    id,
    title,
    caption,
    spec: vl({
      ...base(`pass rate per criterion in ${diff.a} and ${diff.b}`, false),
      data: { values },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'criterion', type: 'nominal', title: 'criterion', sort: order },
        yOffset: { field: 'version', type: 'nominal' },
        x: { field: 'rate', type: 'quantitative', title: 'pass rate', scale: { domain: [0, 1] }, axis: { format: '%' } },
        color: { field: 'version', type: 'nominal', title: 'version', scale: { domain: [diff.a, diff.b] } },
      },
    }),
  };
}
