import { listVersions, ORIGINAL_VERSION } from '../contract/reward-version';
import { locateFlips } from '../versions/flip-texts';
import { diffVersions } from '../versions/version-diff';
import { readVersionRecords } from '../versions/version-records';
import { renderSvg } from './render-svg';
import { versionCharts } from './version-charts';
import type { VersionSection } from './versions-html';

/** Each version the run has, against the original, with its charts rendered: the report's Versions section (empty without versions). */
export async function versionSections(runDir: string): Promise<VersionSection[]> {
  const names = await listVersions(runDir);
  if (names.length === 0) return [];
  const original = await readVersionRecords(runDir, ORIGINAL_VERSION);
  const sections: VersionSection[] = [];
  for (const name of names) {
    const diff = diffVersions(original, await readVersionRecords(runDir, name));
    // The report knows no rollouts.path: the flips' texts are linked where the run keeps them itself (its inbox).
    diff.flips = await locateFlips(runDir, diff.flips);
    const charts = [];
    for (const chart of versionCharts(diff)) charts.push({ chart, svg: chart.spec ? await renderSvg(chart.spec) : undefined });
    sections.push({ diff, charts });
  }
  return sections;
}
