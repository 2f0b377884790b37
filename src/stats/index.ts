/**
 * Agreement, reliability and rank statistics for the run, canaries, the report and judge
 * validation (see README.md here for the degenerate-case convention). Workflow code imports the
 * one file it needs (workflows/agreement.ts: './kappa'), not this index, which pulls in all of
 * them and simple-statistics.
 */
export { bootstrapCI, type BootstrapOptions } from './bootstrap';
export { confusionMatrix, type ConfusionMatrix } from './confusion';
export { meanOffset, stdDev } from './describe';
export { cohensKappa, cohensKappaFromTable, weightedKappa, type WeightedKappaOptions } from './kappa';
export { krippendorffAlpha, type KrippendorffLevel, type ReliabilityValue } from './krippendorff';
export { normalQuantile } from './normal-quantile';
export { wilsonInterval } from './proportion';
export { kendallTauB, spearmanRho } from './rank-correlation';
