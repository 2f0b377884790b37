export { rftRun } from './rft-run';
export { humanReview } from './human-review';
