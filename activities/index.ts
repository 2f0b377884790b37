export { awaitRollouts } from './await-rollouts';
export { prepareStep } from './prepare-step';
export { stageRollouts } from './stage-rollouts';
export { admitRequests } from './admit-requests';
export { assembleStep } from './assemble-step';
export { scoreChunk } from './score-chunk';
export { checkpointStep } from './checkpoint-step';
export { finalizeRun } from './finalize-run';
export { prepareValidation, validateUnit, measureValidation } from './judge-validation';
