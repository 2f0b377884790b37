import type { JudgeConfig } from '../config/run-config';
import type { Judge } from './judge';
import { OfflineHeuristicJudge } from './offline-heuristic';

/** Builds the judge a run's config asks for. */
export function createJudge(config: JudgeConfig): Judge {
  switch (config.provider) {
    case 'offline-heuristic':
      return new OfflineHeuristicJudge();
  }
}
