import type { QueueItem, QueueStep, ReviewQueue } from '../temporal/review-queues';

type Item = QueueItem;

const WHY: Record<Item['why'], string> = {
  sampled: 'drawn at random from the step',
  inconsistent: 'the judge contradicted itself (e.g. swapped-order preference disagreed)',
  'low-confidence': 'the judge score was close to the pass/fail line',
};

/** Collapses whitespace and cuts to `max` characters, for one-line listings. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function judgeVerdict(item: Item): string {
  return `judge ${item.judgePass ? 'pass' : 'fail'}${item.judgeScore === undefined ? ' (judge failed; fallback)' : ` ${item.judgeScore.toFixed(2)}`}`;
}

/** `review list`: one open item per line; the response, since prompts of a step often share their opening. */
export function itemListLine(item: Item): string {
  const what = item.response === undefined ? `rollout ${item.rolloutId}` : `"${oneLine(item.response, 80)}"`;
  return `    ${item.itemId}  ${judgeVerdict(item)}, ${item.why}: ${what}`;
}

export function queueHeader(q: ReviewQueue): string {
  const open = q.steps.filter((s) => s.status === 'open').map((s) => s.step);
  return `${q.workflowId}: review of run ${q.runId}, ${q.open} item${q.open === 1 ? '' : 's'} to answer` + (open.length > 0 ? ` (step${open.length === 1 ? '' : 's'} ${open.join(', ')})` : '');
}

export function stepHeader(s: QueueStep): string {
  const unanswered = s.items.filter((i) => !i.answer).length;
  const state = s.status === 'open' ? `${unanswered} of ${s.items.length} unanswered, deadline ${s.deadline}` : s.status === 'done' ? 'every item answered' : `expired at ${s.deadline}`;
  return `  step ${s.step}: ${state}`;
}

/** `review show`: everything a reviewer needs to decide, with the judge's view last so it does not lead. */
export function itemDetails(item: Item, textsWhere?: string): string {
  const indent = (text: string) => text.split('\n').map((l) => `    ${l}`).join('\n');
  const lines = [
    `── ${item.itemId} (step ${item.step}, rollout ${item.rolloutId}) ──`,
    `  why picked: ${WHY[item.why] ?? item.why}`,
  ];
  if (item.prompt !== undefined) lines.push('  prompt:', indent(item.prompt));
  if (item.response !== undefined) lines.push('  response:', indent(item.response));
  else lines.push(`  (texts not available here${textsWhere ? `: ${textsWhere}` : ''})`);
  if (item.reference !== undefined) lines.push('  reference:', indent(item.reference));
  lines.push(`  ${judgeVerdict(item)}, reward ${item.reward.toFixed(3)}`);
  for (const c of item.criteria ?? []) {
    const evidence = item.evidence?.[c.id];
    lines.push(`  judge on ${c.id}: ${c.pass ? 'pass' : 'fail'}${evidence ? `: ${evidence}` : ''}`);
  }
  if (item.rationale) lines.push('  judge rationale:', indent(item.rationale));
  if (item.answer) {
    const a = item.answer;
    const given = a.verdict ?? `score ${a.score}`;
    lines.push(
      `  reviewed: ${given} (${a.humanPass ? 'pass' : 'fail'})${a.reviewer ? ` by ${a.reviewer}` : ''}${a.note ? `: ${a.note}` : ''}`,
    );
    for (const c of a.criteria ?? []) lines.push(`    on ${c.id}: ${c.pass ? 'pass' : 'fail'}`);
  } else {
    lines.push('  not reviewed yet');
  }
  return lines.join('\n');
}
