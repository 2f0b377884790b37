export { rftRun } from './rft-run';
// Legacy: started only by runs from before one review workflow per run (see human-review-legacy.ts).
export { humanReview } from './human-review-legacy';
export { runReview } from './run-review';
export { judgeValidation } from './judge-validation';
export { rejudgeRun } from './rejudge-run';
