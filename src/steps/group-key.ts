import type { Rollout } from '../config/rollout';

/** Rollouts compared with each other in preference mode: same `group`, or else the same prompt. */
export function groupKey(rollout: Rollout): string {
  return rollout.group ?? `prompt:${rollout.prompt}`;
}
