import type { Chart } from './charts';
import { details, headline } from './header-words';
import type { ReportData } from './report-data';
import { versionsHtml, type VersionSection } from './versions-html';

export interface RenderedChart {
  chart: Chart;
  /** The chart as SVG markup; undefined when the run has nothing to draw there. */
  svg: string | undefined;
}

/**
 * One self-contained page: inline CSS and inline SVG, no script and no external reference, so
 * it opens from a disk, an e-mail attachment or an artifact store without a network.
 */
export function reportHtml(data: ReportData, charts: RenderedChart[], generatedAt: Date, versions: readonly VersionSection[] = []): string {
  const figures = charts.map(chartHtml);
  const notes = data.notes.length === 0 ? '' : `<ul class="notes">${data.notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(`Arbiter run report: ${data.header.runId}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<p class="kicker">Arbiter run report</p>
<h1 class="status status-${escape(data.header.status.replace(/\W+/g, '-'))}">${escape(headline(data))}</h1>
${details(data).map((l) => `<p class="detail">${escape(l)}</p>`).join('\n')}
<p class="meta">Made ${escape(generatedAt.toISOString())} from ${escape(data.runDir)}.</p>
${notes}
</header>
<main>
${figures.join('\n')}
</main>
${versionsHtml(versions, chartHtml)}
</body>
</html>
`;
}

function chartHtml({ chart, svg }: RenderedChart): string {
  const body = svg ? `<div class="svg">${svg}</div>` : `<p class="absent">${escape(chart.absent ?? 'Nothing to draw.')}</p>`;
  return (
    `<section class="chart${svg ? '' : ' empty'}" id="chart-${chart.id}" data-chart="${chart.id}">` +
    `<h2>${escape(chart.title)}</h2><p class="caption">${escape(chart.caption)}</p>${body}</section>`
  );
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6575; --line: #e3e7ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
header { padding: 28px 32px 18px; background: white; border-bottom: 1px solid var(--line); }
.kicker { margin: 0; text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); }
h1 { margin: 6px 0 10px; font-size: 22px; line-height: 1.3; font-weight: 600; }
.status-paused { color: #9a5b00; } .status-cancelled, .status-failed, .status-terminated { color: #a11d2b; } .status-completed { color: #1d6b35; }
.detail { margin: 2px 0; } .meta { margin: 10px 0 0; color: var(--muted); font-size: 13px; }
.notes { color: #9a5b00; font-size: 13px; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 720px), 1fr)); gap: 18px; padding: 20px 32px 40px; }
.chart { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
.chart h2 { margin: 0 0 2px; font-size: 16px; font-weight: 600; }
.caption { margin: 0 0 8px; color: var(--muted); font-size: 13px; }
.svg svg { max-width: 100%; height: auto; }
.absent { color: var(--muted); font-style: italic; }
.versions { padding: 0 32px 40px; } .version { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 18px; }
.version table { border-collapse: collapse; margin: 8px 0; font-size: 13px; } .version td, .version th { padding: 2px 10px; border-bottom: 1px solid var(--line); text-align: right; }
.version td:first-child, .version th:first-child { text-align: left; } .flips { font-size: 13px; }
.version-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 720px), 1fr)); gap: 18px; }
`;
