// The workflows of an Arbiter worker from before judge validation: runs and reviews, no judgeValidation.
export { rftRun } from '../../workflows/rft-run';
export { humanReview } from '../../workflows/human-review-legacy';
export { runReview } from '../../workflows/run-review';
