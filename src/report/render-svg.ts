import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Compiles a Vega-Lite spec and renders it to an SVG string in Node: no browser, no canvas,
 * no network (every chart's data is inline, so the loader is never asked for anything).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
