import type { Comparison, VersionDiff } from '../versions/version-diff';
import { escape, type RenderedChart } from './report-html';

/** One re-judged version against the original, as the report shows it. */
export interface VersionSection {
  diff: VersionDiff;
  charts: RenderedChart[];
}

/** The report's Versions section: per version, the run's figures, the criteria, the flips and their texts, and the charts. */
export function versionsHtml(sections: readonly VersionSection[], chartHtml: (c: RenderedChart) => string): string {
  if (sections.length === 0) return '';
  const parts = sections.map(({ diff, charts }) => {
    const o = diff.overall;
    const apart = Object.entries(o.apart).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
    const rows = [...diff.steps.map((s) => stepRow(String(s.step), s)), stepRow('all', o)].join('');
    const criteria = o.criteria
      .map((c) => `<tr><td>${escape(c.id)}</td><td>${pct(c.passRateA)}</td><td>${pct(c.passRateB)}</td><td>${c.toFail}</td><td>${c.toPass}</td><td>${num(c.kappa)}</td></tr>`)
      .join('');
    const flips = diff.flips
      .map((f) => `<li>step ${f.step} <code>${escape(f.id)}</code>: ${f.rewardA.toFixed(3)} → ${f.rewardB.toFixed(3)} ${f.texts ? `<a href="${escape(fileUrl(f.texts.file))}">${escape(f.texts.file)}</a> line ${f.texts.line}` : '(texts not stored)'}</li>`)
      .join('');
    return (
      `<section class="version" id="version-${escape(diff.b)}"><h3>${escape(diff.b)} against ${escape(diff.a)}</h3>` +
      `<p>${o.changed} of ${o.compared} compared rewards changed; pass = reward ≥ ${diff.options.passThreshold}. Not compared (fallback or excluded in either): ${escape(apart)}.</p>` +
      `<table><tr><th>step</th><th>compared</th><th>changed</th><th>mean shift</th><th>ρ</th><th>κ pass/fail</th><th>→fail</th><th>→pass</th></tr>${rows}</table>` +
      (criteria ? `<table><tr><th>criterion</th><th>pass ${escape(diff.a)}</th><th>pass ${escape(diff.b)}</th><th>→fail</th><th>→pass</th><th>κ</th></tr>${criteria}</table>` : '') +
      `<p>${diff.flipsTotal} rollouts flipped pass↔fail${diff.flipsTotal > diff.flips.length ? ` (the ${diff.flips.length} largest shifts listed)` : ''}.</p>${flips ? `<ul class="flips">${flips}</ul>` : ''}` +
      `<div class="version-charts">${charts.map(chartHtml).join('\n')}</div></section>`
    );
  });
  return `<section class="versions" id="versions"><h2>Versions</h2><p class="caption">Rewards of each re-judged version (runs/&lt;id&gt;/versions/) against the original, from the rewards files (arbiter run diff).</p>${parts.join('\n')}</section>`;
}

function stepRow(label: string, c: Comparison): string {
  return `<tr><td>${label}</td><td>${c.compared}</td><td>${c.changed}</td><td>${c.meanShift === null ? '–' : c.meanShift.toFixed(3)}</td><td>${num(c.spearman)}</td><td>${num(c.passFail.kappa)}</td><td>${c.passFail.toFail}</td><td>${c.passFail.toPass}</td></tr>`;
}

function num(x: number | null): string {
  return x === null ? 'n/a' : x.toFixed(3);
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(0)}%`;
}

function fileUrl(path: string): string {
  return `file://${path.split('/').map(encodeURIComponent).join('/')}`;
}
