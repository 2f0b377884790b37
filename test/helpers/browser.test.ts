import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chromiumPath, withBrowser } from './browser';

describe('withBrowser', () => {
  it('finds Chromium through scripts/chromium, once per process', async () => {
    const first = await chromiumPath();
    expect(first).toMatch(/chrom/i);
    expect(await chromiumPath()).toBe(first);
  });

  it('opens a local page in headless Chromium and reads it back from the page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arbiter-browser-'));
    try {
      const file = join(dir, 'page.html');
      await writeFile(
        file,
        '<!doctype html><title>smoke</title><svg width="10" height="10"><circle r="4" cx="5" cy="5"/></svg>' +
          '<script>document.title = "ran " + (1 + 1)</script>',
      );
      const seen = await withBrowser(async (browser) => {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(file).href);
        return { title: await page.title(), circles: await page.locator('svg circle').count() };
      });
      // The script ran (so JavaScript works) and the SVG is in the DOM.
      expect(seen).toEqual({ title: 'ran 2', circles: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('closes the browser even when the body throws', async () => {
    let opened: import('playwright-core').Browser | undefined;
    await expect(
      withBrowser(async (browser) => {
        opened = browser;
        throw new Error('body failed');
      }),
    ).rejects.toThrow('body failed');
    expect(opened?.isConnected()).toBe(false);
  });
});
