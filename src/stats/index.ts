/** Agreement and reliability statistics for judge validation and run canaries. */
export { bootstrapCI, type BootstrapOptions } from './bootstrap';
export { confusionMatrix, type ConfusionMatrix } from './confusion';
export { meanOffset, stdDev } from './describe';
export { cohensKappa, weightedKappa, type WeightedKappaOptions } from './kappa';
export { krippendorffAlpha, type KrippendorffLevel, type ReliabilityValue } from './krippendorff';
export { normalQuantile } from './normal-quantile';
export { wilsonInterval } from './proportion';
export { kendallTauB, spearmanRho } from './rank-correlation';
