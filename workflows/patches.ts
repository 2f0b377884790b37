/**
 * Every `patched()` id in the run's workflows: what each changed, and the recorded history in
 * test/histories that takes its new path (the replay test checks both). A workflow change that
 * alters the commands a run issues goes behind a new entry here, with a new recorded history; an
 * entry is removed only when no run that predates it can still be open.
 */
export const PATCHES = {
  refuseUnsafeWorkflowId: {
    id: 'refuse-unsafe-workflow-id',
    what: 'a run whose id is unsafe as a folder name fails at once instead of writing outside outputDir',
    history: 'unsafe-workflow-id-refused.json',
  },
  quarantineGuard: {
    id: 'quarantine-guard',
    what: 'a step with more quarantined lines than the run allows pauses the run instead of being scored',
    history: 'quarantined-step-paused-then-fixed.json',
  },
  stepFailuresPause: {
    id: 'step-failures-pause',
    what: 'an activity out of attempts pauses the run (resume scores the step again) instead of failing it',
    history: 'chunk-failed-paused-resumed.json',
  },
  canaryFloor: {
    id: 'canary-floor',
    what: 'gold canaries judged below the floor pause the run before the next step',
    history: 'canary-floor-paused-resumed.json',
  },
  oneReviewWorkflowPerRun: {
    id: 'one-review-workflow-per-run',
    what: "review samples go to the run's one review workflow (runReview) instead of one humanReview per step",
    history: 'one-review-workflow-per-run.json',
  },
  drainSubmissionsBeforeContinueAsNew: {
    id: 'drain-submissions-before-continue-as-new',
    what: 'submissions accepted before continue-as-new are scored and answered in the execution that accepted them',
    history: 'updates-fed-continued-as-new.json',
  },
  overlapSubmittedSteps: {
    id: 'overlap-submitted-steps',
    what: "a submitted step's judging begins while the step before it is checkpointed",
    history: 'steps-judged-ahead.json',
  },
  pauseHoldsWaitingStep: {
    id: 'pause-holds-waiting-step',
    what: 'a step whose rollouts arrive while the run is paused waits for resume',
    history: 'paused-requests-held-then-resumed.json',
  },
  judgeTwoStepsAhead: {
    id: 'judge-two-steps-ahead',
    what: 'judging runs up to two steps ahead; with a model judge the first takes half the waiting requests',
    history: 'steps-judged-two-ahead.json',
  },
  assembleInPrepare: {
    id: 'assemble-in-prepare',
    what: "preparing a step writes its inbox file from the placed requests (one activity fewer per step)",
    history: 'paused-requests-assembled-in-prepare.json',
  },
  admitInBackground: {
    id: 'admit-requests-in-background',
    what: 'a submitRequests update returns once in history; its unpinned requests are recorded in the ledger in batches, by a local activity, before any step holds them (pinned ones by the same local activity, in the handler)',
    history: 'requests-admitted-in-background.json',
  },
  scoreInstantStepsAtOnce: {
    id: 'score-instant-steps-at-once',
    what: 'with a judge that answers at once (the offline heuristic), a step numbered from trainer requests is prepared, judged (one chunk) and checkpointed by one local activity in the workflow task that took it, not judged ahead, and a submitRequests update returns with its answers',
    history: 'requests-scored-at-once.json',
  },
} as const;
