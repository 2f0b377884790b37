import type { Comparison, VersionDiff } from '../versions/version-diff';

/** `arbiter run diff` as people read it: one row per step, the whole run, the criteria that moved, the flips. */
export function formatDiff(diff: VersionDiff): string {
  const out: string[] = [];
  const { passThreshold } = diff.options;
  out.push(`rewards of ${diff.b} against ${diff.a} (shift = ${diff.b} − ${diff.a}; pass = reward ≥ ${passThreshold})`, '');
  const header = ['step', 'compared', 'changed', 'mean shift', 'ρ', 'κ pass/fail', '→fail', '→pass', 'apart'];
  const rows = diff.steps.map((s) => row(String(s.step), s));
  rows.push(row('all', diff.overall));
  out.push(...table([header, ...rows]));
  if (diff.stepsOnlyInA.length) out.push(`steps only in ${diff.a}: ${ranges(diff.stepsOnlyInA)}`);
  if (diff.stepsOnlyInB.length) out.push(`steps only in ${diff.b}: ${ranges(diff.stepsOnlyInB)}`);
  const o = diff.overall;
  if (o.onlyInA || o.onlyInB) out.push(`rollouts only in ${diff.a}: ${o.onlyInA}, only in ${diff.b}: ${o.onlyInB}`);
  const apart = Object.entries(o.apart);
  if (apart.length) out.push(`not compared (fallback or excluded in either version): ${apart.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  if (o.shifts.quantiles) {
    const q = o.shifts.quantiles;
    out.push('', `shift quantiles: min ${signed(q.min)}  p10 ${signed(q.p10)}  p50 ${signed(q.p50)}  p90 ${signed(q.p90)}  max ${signed(q.max)}`);
    if (o.shifts.histogram.length) out.push(`changed rewards by shift: ${o.shifts.histogram.map((b) => `[${signed(b.from)}, ${signed(b.to)}) ${b.count}`).join('  ')}`);
  }
  if (o.criteria.length) {
    out.push('', 'criteria, most moved first:');
    out.push(
      ...table([
        ['criterion', `pass ${diff.a}`, `pass ${diff.b}`, '→fail', '→pass', 'κ'],
        ...o.criteria.map((c) => [c.id, percent(c.passRateA), percent(c.passRateB), String(c.toFail), String(c.toPass), fixed(c.kappa)]),
      ]),
    );
  }
  out.push('', diff.flipsTotal === 0 ? 'no rollout flipped pass↔fail' : `flipped pass↔fail: ${diff.flipsTotal}${diff.flipsTotal > diff.flips.length ? ` (the ${diff.flips.length} largest shifts shown)` : ''}`);
  for (const f of diff.flips) {
    out.push(`  step ${f.step}  ${f.id}  ${f.rewardA.toFixed(3)} → ${f.rewardB.toFixed(3)}  ${f.texts ? `${f.texts.file}:${f.texts.line}` : '(texts not stored)'}`);
  }
  return out.join('\n');
}

function row(label: string, c: Comparison): string[] {
  const apart = Object.values(c.apart).reduce((n, x) => n + x, 0);
  return [label, String(c.compared), String(c.changed), c.meanShift === null ? '–' : signed(c.meanShift), fixed(c.spearman), fixed(c.passFail.kappa), String(c.passFail.toFail), String(c.passFail.toPass), String(apart)];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

function signed(x: number): string {
  return `${x > 0 ? '+' : ''}${x.toFixed(3)}`;
}

/** A statistic that is undefined (null) reads n/a, as κ does everywhere (src/stats/README.md). */
function fixed(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}

function percent(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(0)}%`;
}

function ranges(steps: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j]! + 1) j++;
    parts.push(i === j ? String(steps[i]) : `${steps[i]}-${steps[j]}`);
    i = j;
  }
  return parts.join(', ');
}
