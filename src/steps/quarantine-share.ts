import type { BatchInfo } from './prepare-batch';

/**
 * Whether more of the step's lines were quarantined than the run allows (or none is valid): the
 * step is not scored as it is. Read by the run's guard and by a step scored at once, before judging.
 */
export function quarantineExceeded(batch: Pick<BatchInfo, 'lines' | 'valid' | 'quarantined'>, maxShare: number): boolean {
  const share = batch.lines === 0 ? 1 : batch.quarantined / batch.lines;
  return batch.valid === 0 || share > maxShare;
}
