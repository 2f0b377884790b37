export { rftRun } from './rft-run';
export { humanReview } from './human-review';
export { runReview } from './run-review';
export { judgeValidation } from './judge-validation';
