import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CanaryFileError, goldPass, loadCanarySet, pickCanaries, type CanaryItem } from '../../src/steps/canary-set';
import { tempDir } from '../support/fixtures';

function item(id: string, pass: boolean): CanaryItem {
  return { id, prompt: `p ${id}`, response: `r ${id}`, label: { pass } };
}

async function fileOf(lines: string[]): Promise<string> {
  const path = join(await tempDir(), 'gold.jsonl');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

async function issuesOf(lines: string[], criterionIds?: string[]): Promise<string[]> {
  const err = await loadCanarySet(await fileOf(lines), { criterionIds }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CanaryFileError);
  return (err as CanaryFileError).issues;
}

describe('canary file', () => {
  it('reads gold items with a pass label, per-criterion labels or both, blank lines skipped', async () => {
    const items = await loadCanarySet(
      await fileOf([
        JSON.stringify({ id: 'a', prompt: 'p', response: 'r', label: { pass: true }, note: 'extra columns are ignored' }),
        '',
        JSON.stringify({ id: 'b', prompt: 'p', response: 'r', reference: 'ref', label: { criteria: { flags_risk: true, explains_why: false } } }),
        JSON.stringify({ id: 'c', prompt: 'p', response: 'r', label: { pass: false, criteria: { flags_risk: true } } }),
      ]),
      { criterionIds: ['flags_risk', 'explains_why'] },
    );
    expect(items.map((i) => [i.id, goldPass(i.label)])).toEqual([
      ['a', true],
      ['b', false], // a labelled criterion fails
      ['c', false], // the whole-item label wins
    ]);
    expect(items[1]!.reference).toBe('ref');
  });

  it('names the line of every bad item', async () => {
    const ok = JSON.stringify({ id: 'ok', prompt: 'p', response: 'r', label: { pass: true } });
    const issues = await issuesOf(
      [
        ok,
        '{"id": "broken", ',
        JSON.stringify({ id: 'nolabel', prompt: 'p', response: 'r' }),
        JSON.stringify({ id: 'empty', prompt: 'p', response: 'r', label: {} }),
        JSON.stringify({ id: 'ok', prompt: 'p', response: 'r', label: { pass: false } }),
        JSON.stringify({ id: 'strpass', prompt: 'p', response: 'r', label: { pass: 'yes' } }),
        JSON.stringify({ id: 'crit', prompt: 'p', response: 'r', label: { criteria: { nope: true } } }),
        JSON.stringify({ prompt: 'p', response: 'r', label: { pass: true } }),
      ],
      ['flags_risk'],
    );
    expect(issues).toEqual([
      expect.stringMatching(/^line 2: broken JSON: /),
      expect.stringMatching(/^line 3: label: /),
      expect.stringMatching(/^line 4: label: needs pass .* or criteria/),
      'line 5: id: duplicate id "ok"',
      expect.stringMatching(/^line 6: label\.pass: /),
      'line 7: label.criteria: "nope" not in the judge\'s rubric (flags_risk)',
      expect.stringMatching(/^line 8: id: /),
    ]);
  });

  it('says so when the file holds no item, and names the file in the message', async () => {
    const path = await fileOf(['', '  ']);
    await expect(loadCanarySet(path)).rejects.toThrow(`canary.file ${path} is not usable:\n  holds no canary item`);
  });
});

describe('canaries of a step', () => {
  const items = [...Array.from({ length: 10 }, (_, i) => item(`p${i}`, true)), ...Array.from({ length: 30 }, (_, i) => item(`f${i}`, false))];

  it('are the same for the same step, and change from step to step', () => {
    const ids = (step: number) => pickCanaries(items, 8, step).map((i) => i.id);
    expect(ids(3)).toEqual(ids(3));
    expect(new Set(ids(3)).size).toBe(8);
    const differing = [1, 2, 3, 4, 5].filter((s) => ids(s).join() !== ids(s + 1).join());
    expect(differing.length).toBeGreaterThan(0);
  });

  it('are half passing, half failing when the file has enough of both', () => {
    for (let step = 1; step <= 20; step++) {
      const picked = pickCanaries(items, 8, step);
      expect(picked.filter((i) => i.label.pass).length).toBe(4);
    }
    // Odd counts round towards passing items.
    expect(pickCanaries(items, 5, 1).filter((i) => i.label.pass).length).toBe(3);
  });

  it('take what there is of the scarcer kind and fill up with the other', () => {
    const fewPassing = [item('p0', true), ...Array.from({ length: 10 }, (_, i) => item(`f${i}`, false))];
    const picked = pickCanaries(fewPassing, 6, 2);
    expect(picked).toHaveLength(6);
    expect(picked.filter((i) => i.label.pass).map((i) => i.id)).toEqual(['p0']);
    const fewFailing = [item('f0', false), ...Array.from({ length: 10 }, (_, i) => item(`p${i}`, true))];
    expect(pickCanaries(fewFailing, 6, 2).filter((i) => !i.label.pass).map((i) => i.id)).toEqual(['f0']);
  });

  it('are the whole file when it holds no more than perStep items', () => {
    const small = items.slice(8, 13);
    expect(pickCanaries(small, 8, 1).map((i) => i.id).sort()).toEqual(small.map((i) => i.id).sort());
  });
});
