import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { withBrowser } from '../helpers/browser';

export interface ChartSeen {
  id: string;
  /** Data marks drawn (paths, symbols, bars inside Vega's role-mark groups). */
  marks: number;
  axisTitles: string[];
  legendLabels: string[];
  /** Bars drawn more than 10 px tall: a bar of a value above 0 has a height, not only a place. */
  tallBars: number;
  /** On-screen size of the chart's SVG, so "rendered" means laid out, not only present. */
  width: number;
  height: number;
  absent: string | undefined;
}

export interface ReportSeen {
  headline: string;
  details: string[];
  charts: ChartSeen[];
  /** Every request the page made, the page's own file:// URL included. */
  requests: string[];
  consoleErrors: string[];
  /** What the file itself contains that could reach out: script tags, remote src/href. */
  scriptTags: number;
  remoteReferences: string[];
}

/** Opens a report in real headless Chromium and reads, from the page itself, what it shows. */
export async function openReport(file: string): Promise<ReportSeen> {
  const html = await readFile(file, 'utf8');
  return withBrowser(async (browser) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const seen = (await page.evaluate(READ_PAGE)) as Pick<ReportSeen, 'headline' | 'details' | 'charts'>;
    return {
      ...seen,
      requests,
      consoleErrors,
      scriptTags: (html.match(/<script/gi) ?? []).length,
      remoteReferences: html.match(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]*/gi) ?? [],
    };
  });
}

// Runs in the page. A string, because this project compiles without the DOM's types.
const READ_PAGE = `(() => {
  const text = (el) => (el?.textContent ?? '').trim();
  return {
    headline: text(document.querySelector('h1')),
    details: [...document.querySelectorAll('header .detail')].map(text),
    charts: [...document.querySelectorAll('section[data-chart]')].map((section) => {
      const svg = section.querySelector('svg');
      const box = svg?.getBoundingClientRect();
      return {
        id: section.getAttribute('data-chart') ?? '',
        marks: section.querySelectorAll('svg g.role-mark path, svg g.role-mark rect, svg g.role-mark circle').length,
        tallBars: [...section.querySelectorAll('svg g.mark-rect.role-mark path')].filter((p) => p.getBBox().height > 10).length,
        axisTitles: [...section.querySelectorAll('svg g.role-axis-title text')].map(text),
        legendLabels: [...section.querySelectorAll('svg g.role-legend-label text')].map(text),
        width: box?.width ?? 0,
        height: box?.height ?? 0,
        absent: section.querySelector('.absent') ? text(section.querySelector('.absent')) : undefined,
      };
    }),
  };
})()`;

/** The axis titles each chart must show: a chart with marks but no axes is not readable. */
export const AXIS_TITLES: Record<string, string[]> = {
  reward: ['step', 'reward'],
  components: ['step', 'component mean'],
  criteria: ['step', 'pass rate'],
  fallback: ['step', 'share of rollouts'],
  quarantine: ['step', 'quarantined lines'],
  tokens: ['step', 'tokens'],
  cost: ['step', 'USD per step', 'USD so far', 'tokens so far'],
  agreement: ['step', 'accuracy / kappa'],
  length: ['response length (characters)', 'reward'],
};
