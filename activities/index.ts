export { prepareStep } from './prepare-step';
export { scoreChunk } from './score-chunk';
export { checkpointStep } from './checkpoint-step';
