import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node: no browser, no canvas,
 * no network (every chart's data is inline, so the loader is never asked for anything).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return compactNumbers(await view.toSVG());
  } finally {
    view.finalize();
  }
}

const GEOMETRY = /\b(transform|d|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g;

/**
 * Rounds coordinates to 2 decimals (a hundredth of a pixel): Vega writes them at full float
 * precision, which for a 1,000-step run is a good part of the page's size, and no one sees it.
 */
export function compactNumbers(svg: string): string {
  return svg.replace(GEOMETRY, (_, name: string, value: string) => `${name}="${value.replace(/(\d+\.\d\d)\d+/g, (n) => String(Math.round(Number(n) * 100) / 100))}"`);
}
