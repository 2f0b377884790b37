import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every relative link and anchor of the docs must resolve: the file exists, and a `#anchor` is a
// heading of the target file as GitHub names it. The docs checked: README.md, docs/*.md, and every
// other .md file they link to (examples' and the Python client's READMEs), followed transitively.

/**
 * GitHub's heading slug, as github-slugger computes it: lowercase, drop every character that is
 * not a letter, mark, number, connector (`_`), hyphen or space, spaces to hyphens; a repeated slug
 * gets -1, -2, ... in order. Written here rather than taken from github-slugger: that package is
 * not in node_modules, and node_modules is shared with other checkouts of this repo, so adding a
 * dependency for ten lines is not worth it.
 */
function slugger(): (heading: string) => string {
  const occurrences = new Map<string, number>();
  return (heading) => {
    const original = heading.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
    let slug = original;
    while (occurrences.has(slug)) {
      occurrences.set(original, occurrences.get(original)! + 1);
      slug = `${original}-${occurrences.get(original)}`;
    }
    occurrences.set(slug, 0);
    return slug;
  };
}

/** The text with fenced code blocks blanked out (line count kept, so positions stay right). */
function withoutFences(text: string): string {
  let fence: string | undefined;
  return text
    .split('\n')
    .map((line) => {
      const run = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined) {
        if (run !== undefined) fence = run;
        return run === undefined ? line : '';
      }
      // A fence closes with a run of its own character, at least as long, and nothing else.
      if (run !== undefined && run[0] === fence[0] && run.length >= fence.length && line.trim() === run) fence = undefined;
      return '';
    })
    .join('\n');
}

/** Inline code spans (within a paragraph) blanked out with spaces, line breaks kept. */
function withoutInlineCode(text: string): string {
  return text.replace(/(`+)(?!`)(?:[^\n]|\n(?!\s*\n))*?[^`]\1(?!`)/g, (m) => m.replace(/[^\n]/g, ' '));
}

/** The anchors a markdown file's headings give, by GitHub's rules. */
function anchorsOf(markdown: string): Set<string> {
  const slug = slugger();
  const anchors = new Set<string>();
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    // The heading's text as rendered: link text without its target, code without its backticks.
    const text = heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
    anchors.add(slug(text.trim()));
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Relative links of a markdown file (inline `[text](target)`), outside code; URLs with a scheme left out. */
function relativeLinksOf(markdown: string): Link[] {
  const text = withoutInlineCode(withoutFences(markdown));
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*<?([^()\s<>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1]!;
    if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http(s), mailto, ...
    links.push({ line: text.slice(0, m.index).split('\n').length, target });
  }
  return links;
}

/**
 * Every broken relative link of `start` and of the .md files they reach, as `file:line: target: why`,
 * and the files read. `root` is the repository; links are resolved against the folder of the file they are in.
 */
function brokenLinks(root: string, start: string[]): { problems: string[]; files: string[]; links: number } {
  const problems: string[] = [];
  const queue = [...start];
  const seen = new Set<string>(queue);
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(join(root, file), 'utf8')));
    return anchorCache.get(file)!;
  };
  let links = 0;
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const { line, target } of relativeLinksOf(readFileSync(join(root, file), 'utf8'))) {
      links++;
      const hash = target.indexOf('#');
      const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
      const to = path === '' ? file : normalize(join(dirname(file), path));
      const where = `${file}:${line}: ${target}`;
      if (to.startsWith('..') || !existsSync(join(root, to))) {
        problems.push(`${where}: no such file ${to}`);
        continue;
      }
      const isMarkdown = to.endsWith('.md') && statSync(join(root, to)).isFile();
      if (isMarkdown && !seen.has(to)) seen.add(to), queue.push(to);
      if (anchor === undefined || anchor === '') continue;
      if (!isMarkdown) problems.push(`${where}: an anchor into ${to}, which is not a markdown file`);
      else if (!anchors(to).has(anchor)) problems.push(`${where}: ${to} has no heading #${anchor}`);
    }
  }
  return { problems, files: [...seen], links };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('doc links', () => {
  it('names headings as GitHub does', () => {
    const slug = slugger();
    expect(slug('The reward service: `arbiter serve`')).toBe('the-reward-service-arbiter-serve');
    expect(slug('Canaries: is it still the same judge?')).toBe('canaries-is-it-still-the-same-judge');
    expect(slug('The service path under load: npm run soak:serve')).toBe('the-service-path-under-load-npm-run-soakserve');
    expect(slug('Cohen’s κ & α, per_judge')).toBe('cohens-κ--α-per_judge');
    // Duplicates get -1, -2; a heading that already reads like a suffixed one is kept apart.
    expect([slug('Usage'), slug('Usage'), slug('Usage-1'), slug('Usage')]).toEqual(['usage', 'usage-1', 'usage-1-1', 'usage-2']);
  });

  it('reads headings and links outside code only', () => {
    const doc = [
      '# Top',
      '## Top',
      '```sh',
      '# not a heading [nor](a-link.md)',
      '```',
      'See [a](b.md#top-1), `[code](c.md)`, [web](https://example.com) and [mail](mailto:x@y.z).',
      '[split',
      'text](d.md)',
    ].join('\n');
    expect([...anchorsOf(doc)]).toEqual(['top', 'top-1']);
    expect(relativeLinksOf(doc)).toEqual([
      { line: 6, target: 'b.md#top-1' },
      { line: 7, target: 'd.md' },
    ]);
  });

  it('resolves every relative link and anchor of README.md, docs/ and the files they link to', () => {
    const docs = readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    expect(docs.length).toBeGreaterThanOrEqual(8);
    const { problems, files, links } = brokenLinks(ROOT, ['README.md', ...docs]);
    expect(problems).toEqual([]);
    // The READMEs the docs link to are checked too.
    expect(files).toEqual(expect.arrayContaining(['clients/python/README.md', 'examples/trainer/README.md', 'examples/agent-tools/README.md', 'examples/validation/contract-clauses/README.md']));
    expect(links).toBeGreaterThan(40);
  });

  it('every docs page is linked from the README', () => {
    const linked = new Set(relativeLinksOf(readFileSync(join(ROOT, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]));
    const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    expect(pages.filter((f) => !linked.has(`docs/${f}`))).toEqual([]);
  });
});
