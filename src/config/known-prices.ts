import { bareModelId, type TokenPrice } from './prompt-cache-support';

/**
 * On-demand prices of the judge models Arbiter knows, so a run can estimate its cost (and keep
 * a budget) without anyone typing prices. A run's `prices.<model>` always wins: these are list
 * prices for the standard tier in US East (N. Virginia), and a region, a cross-region profile,
 * a batch or provisioned tier, or a negotiated rate may differ. Pure data (the workflow sandbox
 * imports it through the run config's checks).
 */
export const PRICES_AS_OF = '2026-11';
export const PRICES_SOURCE = 'Amazon Bedrock pricing page (on-demand, standard tier, us-east-1), as read in November 2026';

/** USD per million tokens; cache prices follow from the model family (prompt-cache-support.ts). */
const TABLE: [RegExp, TokenPrice][] = [
  [/^anthropic\.claude-3-5-haiku-/, { inputPerMTok: 0.8, outputPerMTok: 4 }],
  [/^anthropic\.claude-haiku-4-5/, { inputPerMTok: 1, outputPerMTok: 5 }],
  [/^anthropic\.claude-3-7-sonnet-/, { inputPerMTok: 3, outputPerMTok: 15 }],
  [/^anthropic\.claude-sonnet-4/, { inputPerMTok: 3, outputPerMTok: 15 }],
  [/^anthropic\.claude-opus-4-[56]/, { inputPerMTok: 5, outputPerMTok: 25 }],
  [/^anthropic\.claude-opus-4/, { inputPerMTok: 15, outputPerMTok: 75 }],
  [/^amazon\.nova-micro-v1/, { inputPerMTok: 0.035, outputPerMTok: 0.14 }],
  [/^amazon\.nova-lite-v1/, { inputPerMTok: 0.06, outputPerMTok: 0.24 }],
  [/^amazon\.nova-pro-v1/, { inputPerMTok: 0.8, outputPerMTok: 3.2 }],
  [/^amazon\.nova-premier-v1/, { inputPerMTok: 2.5, outputPerMTok: 12.5 }],
  [/^amazon\.nova-2-lite-v1/, { inputPerMTok: 0.3, outputPerMTok: 2.5 }],
];

/** The list price of a model id, inference profile id or ARN, when Arbiter knows one. */
export function knownPrice(model: string): TokenPrice | undefined {
  const bare = bareModelId(model);
  return TABLE.find(([pattern]) => pattern.test(bare))?.[1];
}

/** The price a run estimates its cost with: its own, else the known list price, else none. */
export function priceFor<P>(prices: Record<string, P>, model: string): P | TokenPrice | undefined {
  return prices[model] ?? knownPrice(model);
}
