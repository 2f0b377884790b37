export { rftRun } from './rft-run';
export { humanReview } from './human-review';
export { judgeValidation } from './judge-validation';
