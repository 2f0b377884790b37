// Pure: the workflow plans its activities with this.

/** What one judging activity does: a slice of the items (or attacks) for one judge. */
export interface WorkUnit {
  judge: string;
  kind: 'rubric' | 'preference' | 'attack';
  /** Rubric only: which of the repeated passes (0 is the pass every other metric uses). */
  repeat: number;
  start: number;
  end: number;
}

export interface PlannedJudge {
  name: string;
  /** True for judges in preference mode: only they are asked for comparisons. */
  canCompare: boolean;
}

export interface PlanCounts {
  items: number;
  pairs: number;
  attacks: number;
}

export function planUnits(
  judges: readonly PlannedJudge[],
  counts: PlanCounts,
  options: { repeats: number; chunkSize: number; preference: boolean },
): WorkUnit[] {
  const slices = (total: number) =>
    Array.from({ length: Math.ceil(total / options.chunkSize) }, (_, i) => [i * options.chunkSize, Math.min(total, (i + 1) * options.chunkSize)] as const);
  const units: WorkUnit[] = [];
  for (const judge of judges) {
    for (let repeat = 0; repeat < options.repeats; repeat++) {
      for (const [start, end] of slices(counts.items)) units.push({ judge: judge.name, kind: 'rubric', repeat, start, end });
    }
    for (const [start, end] of slices(counts.attacks)) units.push({ judge: judge.name, kind: 'attack', repeat: 0, start, end });
    if (options.preference && judge.canCompare) {
      for (const [start, end] of slices(counts.pairs)) units.push({ judge: judge.name, kind: 'preference', repeat: 0, start, end });
    }
  }
  return units;
}

export function unitFile(unit: WorkUnit): string {
  const tag = unit.kind === 'rubric' ? `rubric-r${unit.repeat}` : unit.kind;
  return `judged/${unit.judge}/${tag}-${String(unit.start).padStart(6, '0')}.jsonl`;
}
