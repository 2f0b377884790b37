import type { JudgeHandle } from '../../src/judges/build-judge';
import type { Judge } from '../../src/judges/judge';

/** A rubric-mode JudgeHandle around one of our own Judge implementations. */
export function handleOf(judge: Judge, concurrency = 4): JudgeHandle {
  return {
    identity: { provider: judge.provider, model: judge.model },
    mode: 'rubric',
    concurrency,
    maxPairsPerGroup: 0,
    rubric: (rollout, signal) => judge.judge(rollout, signal),
    compare: () => Promise.reject(new Error('rubric only')),
    close: async () => {},
  };
}
