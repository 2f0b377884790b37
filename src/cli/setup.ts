// The same with the Temporal CLI, once per attribute:
//   temporal operator search-attribute create --name ArbiterStep --type Int
//   (ArbiterStatus Keyword, ArbiterRewardMean Double, ArbiterFallbackRate Double, ArbiterJudgeModel Keyword)
import { Command } from 'commander';
import { ensureSearchAttributes } from '../temporal/search-attributes';
import { ARBITER_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { withConnectionOptions, withTemporal, type ConnectionFlags } from './connect';

export function setupCommand(): Command {
  return withConnectionOptions(
    new Command('setup').description("register Arbiter's search attributes on the server (needs operator rights)"),
  ).action(async (opts: ConnectionFlags) => {
    await withTemporal(opts, async (t) => {
      const added = await ensureSearchAttributes(t.connection, t.namespace);
      if (added.length === 0) {
        console.log(`namespace ${t.namespace} already has all of: ${ARBITER_SEARCH_ATTRIBUTES.map((k) => k.name).join(', ')}`);
      } else {
        console.log(`added to namespace ${t.namespace}: ${added.join(', ')}`);
      }
    });
  });
}
