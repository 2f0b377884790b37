import { reportCharts } from './charts';
import { readReportData, type RunHeader, type StepAgreement } from './report-data';
import { reportHtml, type RenderedChart } from './report-html';
import { renderSvg } from './render-svg';
import { storeFor } from '../storage/stores';
import { versionSections } from './version-sections';

/** Reads the run's folder, renders every chart to SVG and writes the page; returns its size and charts. */
export async function writeReport(args: {
  runDir: string;
  header: RunHeader;
  humanAgreement?: StepAgreement[];
  /** What the caller found worth saying about its sources (shown under the header). */
  notes?: string[];
  out: string;
  now?: Date;
}): Promise<{ bytes: number; charts: RenderedChart[]; steps: number; versions: string[] }> {
  const data = await readReportData(args.runDir, args.header, args.humanAgreement);
  data.notes.push(...(args.notes ?? []));
  const charts: RenderedChart[] = [];
  for (const chart of reportCharts(data)) {
    charts.push({ chart, svg: chart.spec ? await renderSvg(chart.spec) : undefined });
  }
  const versions = await versionSections(args.runDir);
  const html = reportHtml(data, charts, args.now ?? new Date(), versions);
  await storeFor(args.out).write(args.out, html);
  return { bytes: Buffer.byteLength(html), charts, steps: data.steps.length, versions: versions.map((v) => v.diff.b) };
}
