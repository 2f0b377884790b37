import type { Interval } from './measure/interval';
import type { BinaryAgreement } from './measure/human-agreement';
import type { JudgeReport, ValidationReport } from './measure/report';

const f = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const ci = (i: Interval | null | undefined, digits = 3) => (i ? `${f(i.estimate, digits)} [${f(i.low, digits)}, ${f(i.high, digits)}]` : 'n/a');
const ciPct = (i: Interval | null | undefined) => (i ? `${pct(i.estimate)} [${pct(i.low)}, ${pct(i.high)}]` : 'n/a');

/** The report as a person reads it: every metric, with its interval and the count it rests on. */
export function formatSummary(report: ValidationReport): string {
  const out: string[] = [];
  const conf = `${Math.round(report.options.bootstrap.confidence * 100)}%`;
  out.push(`Judge validation ${report.validationId}: ${report.items} items from ${report.dataset}`);
  out.push(`repeats ${report.options.repeats}, pass threshold ${report.options.passThreshold}; intervals are ${conf} bootstrap (${report.options.bootstrap.resamples} resamples) unless marked Wilson`);
  for (const j of report.judges) out.push('', ...judgeSection(j));
  out.push('', 'Cross-judge agreement (first pass)');
  if (report.crossJudge.length === 0) out.push('  one judge given: list two or more under judges to compare them');
  for (const c of report.crossJudge) out.push(`  ${c.a} vs ${c.b}: κ ${f(c.kappa)}, Spearman ρ ${f(c.spearman)} (n=${c.n})`);
  out.push('', ...gateSection(report));
  return out.join('\n') + '\n';
}

function judgeSection(j: JudgeReport): string[] {
  const out: string[] = [];
  out.push(`== judge ${j.name}: ${j.provider} ${j.model}`);
  if (j.offlineDemoJudge) {
    out.push('   THE OFFLINE DEMO JUDGE: deterministic text rules, NOT an LLM. These figures show the validation working, not a judge worth training on.');
  }
  out.push(`   ${j.items} items judged; ${j.cost.calls} judge calls, ${j.cost.inputTokens} input + ${j.cost.outputTokens} output tokens${j.cost.usd !== null ? ` (est. $${j.cost.usd.toFixed(4)})` : ''}, ${j.cost.failedJudgements} failed judgements`);

  const sc = j.selfConsistency;
  out.push(`Self-consistency (${sc.repeats} repeats, ${sc.items} items, cache off)`);
  if (sc.repeats < 2) out.push('  not measured: repeats is 1');
  else {
    for (const c of [sc.overall, ...sc.criteria]) {
      out.push(`  ${c.id}: flip rate ${ciPct(c.flipRate)}, two repeats disagree ${pct(c.pairwiseDisagreement)} (n=${c.items})`);
    }
    out.push(`  score sd across repeats: mean ${f(sc.scoreSd.mean)}, max ${f(sc.scoreSd.max)}`);
  }

  out.push('Position bias (preference mode, each pair in both orders)');
  if ('notMeasured' in j.positionBias) out.push(`  not measured: ${j.positionBias.notMeasured}`);
  else {
    const p = j.positionBias;
    out.push(`  first-position pick rate ${ciPct(p.firstPositionRate)} (0.5 = none), n=${p.pairs} pairs`);
    out.push(`  flip rate under swap ${ciPct(p.flipRate)} of pairs decisive in both orders; decisive share ${pct(p.decisiveShare)}`);
    if (p.human) out.push(`  against human preferences: agreement ${pct(p.human.agreement)}, κ ${f(p.human.kappa)} (n=${p.human.pairs})`);
    if (j.offlineDemoJudge) out.push('  (by design: on equal rule scores the offline judge picks the response shown first, a position bias this should find)');
  }

  const h = j.human;
  out.push('Agreement with humans');
  out.push(...binaryLines('overall pass/fail', h.pass));
  for (const c of h.criteria) out.push(...binaryLines(`criterion ${c.id}`, c));
  if (h.criteria.length === 0) out.push('  per criterion: no criterion ids shared by the judge and the labels (map them with criterionMap)');
  else out.push(...binaryLines('all criteria pooled', h.pooledCriteria));
  if (h.ordinal) {
    out.push(`  ordinal 1–5 score (n=${h.ordinal.n}): weighted κ quadratic ${ci(h.ordinal.weightedKappaQuadratic)}, linear ${f(h.ordinal.weightedKappaLinear)}`);
  } else out.push('  ordinal score: no human scores');
  const l = h.labellers;
  if (l) {
    out.push(`  several labellers (${l.labellers} people, ${l.items} items): Krippendorff α pass/fail humans ${f(l.humanAlphaPass)} (the ceiling), with the judge ${f(l.withJudgeAlphaPass)}`);
    out.push(`    α ordinal score humans ${f(l.humanAlphaScore)}, with the judge ${f(l.withJudgeAlphaScore)}; mean κ human–human ${f(l.meanHumanHumanKappa)}, judge–human ${f(l.meanJudgeHumanKappa)}`);
  } else out.push('  several labellers: none in the dataset (no α, no human–human ceiling)');

  out.push('Agreement with gold scores and production metrics');
  if (j.gold) {
    out.push(`  gold (n=${j.gold.n}): Spearman ρ ${ci(j.gold.spearman)}, Kendall τ-b ${ci(j.gold.kendall)}, mean offset judge−gold ${ci(j.gold.meanOffset)}`);
  } else out.push('  gold: no gold scores');
  for (const [name, m] of Object.entries(j.productionMetrics)) {
    out.push(m ? `  ${name} (n=${m.n}): Spearman ρ ${ci(m.spearman)}, Kendall τ-b ${ci(m.kendall)}` : `  ${name}: too few items`);
  }

  out.push('Bias probes');
  out.push(`  score vs response length: Spearman ρ ${ci(j.bias.length?.spearman)}`);
  for (const a of j.bias.attacks) {
    out.push(`  attack ${a.attack}: false-pass ${a.falsePasses}/${a.n} = ${a.rate ? `${pct(a.rate.rate)} [Wilson ${pct(a.rate.low)}, ${pct(a.rate.high)}]` : 'n/a'}`);
  }
  return out;
}

function binaryLines(label: string, b: BinaryAgreement | null): string[] {
  if (!b) return [`  ${label}: no labels`];
  const m = b.matrix;
  return [
    `  ${label} (n=${b.n}): agreement ${pct(b.agreement)} vs human base rate ${pct(b.baseRate)} (judge passes ${pct(b.judgePassRate)}); κ ${ci(b.kappa)}`,
    `    confusion judge×human: TP ${m.tp} FP ${m.fp} TN ${m.tn} FN ${m.fn}; TPR ${pct(b.tpr)} FPR ${pct(b.fpr)}`,
  ];
}

function gateSection(report: ValidationReport): string[] {
  if (report.gates.length === 0) return ['Thresholds: none given (nothing gated)'];
  const out = [`Thresholds: ${report.passed ? 'all passed' : 'FAILED'}`];
  for (const g of report.gates) {
    out.push(`  ${g.ok ? 'ok  ' : 'FAIL'} ${g.judge}: ${g.metric} ${f(g.value)} ${g.flag.startsWith('--min') ? '≥' : '≤'} ${g.threshold} (${g.flag})`);
  }
  return out;
}

/** One line per failed threshold, naming the flag and the judge. */
export function failedGateLines(report: ValidationReport): string[] {
  return report.gates
    .filter((g) => !g.ok)
    .map((g) => `threshold failed: ${g.flag} ${g.threshold}: judge ${g.judge} ${g.metric} = ${g.value === null ? 'not measured' : g.value.toFixed(3)}`);
}
