import type { LlmJudgeConfig } from '../config/judge-config';
import { BedrockChatModel } from './bedrock-chat';
import type { ChatModel } from './chat-model';
import { OpenAiChatModel } from './openai-chat';
import { QuotaLimiter } from '../call-policy/quota-limiter';
import { onProcessesChange, processesOn } from './queue-processes';
import { GovernedChatModel } from './governed-chat';

/**
 * Per-model capabilities live beside the clients: prompt caching (which Bedrock models take a
 * cache point, their minimum prefix, cache prices) is in prompt-cache-support.ts.
 */
export { promptCacheSupport, usePromptCache } from '../config/prompt-cache-support';

/**
 * Per-process registry of model clients and their quota limiters: every chunk activity of a
 * worker that judges with the same model shares one limiter, so the process as a whole keeps
 * to the quota however many chunks run at once.
 */
const models = new Map<string, ChatModel>();
const limiters = new Map<string, QuotaLimiter>();
/** A process on a shared account may go this much faster than its even part of the quota. */
const SHARE_HEADROOM = 1.5;

function identity(config: LlmJudgeConfig): string {
  // The SDK reads AWS_ENDPOINT_URL_BEDROCK_RUNTIME when a client is made: it is part of who we talk to.
  const endpoint =
    config.provider === 'bedrock'
      ? `${config.region ?? ''}@${process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME ?? ''}`
      : (config.baseUrl ?? process.env.OPENAI_BASE_URL ?? '');
  return `${config.provider}|${endpoint}|${config.model}`;
}

export function governedChatModel(config: LlmJudgeConfig): GovernedChatModel {
  const id = identity(config);
  // A model client is made for its timeout too: a run reconfigured with another one gets a new client.
  const promptCache = config.provider === 'bedrock' ? config.promptCache : undefined;
  const modelId = `${id}|${config.requestTimeoutMs}|${promptCache ?? 'auto'}`;
  let model = models.get(modelId);
  if (!model) {
    model =
      config.provider === 'bedrock'
        ? new BedrockChatModel({ model: config.model, region: config.region, requestTimeoutMs: config.requestTimeoutMs, promptCache })
        : new OpenAiChatModel({ model: config.model, baseUrl: config.baseUrl, requestTimeoutMs: config.requestTimeoutMs });
    models.set(modelId, model);
  }
  const quota = config.quota;
  // On a shared account Temporal hands this process chunks at the account's pace, and the other
  // processes theirs at the same moments: a chunk's calls leave one at a time at this process's
  // pace, not in a burst, so that chunks started together across processes do not arrive together.
  const shared = config.sharedQuota;
  const burst = quota.burst ?? (shared ? { requests: 1 } : undefined);
  const limiterId = `${id}|${quota.requestsPerMinute}|${quota.tokensPerMinute ?? ''}|${quota.maxInFlight}|${burst?.requests ?? ''}|${burst?.tokens ?? ''}|${shared?.taskQueue ?? ''}`;
  let limiter = limiters.get(limiterId);
  if (!limiter) {
    const made = new QuotaLimiter({
      requestsPerMinute: quota.requestsPerMinute,
      tokensPerMinute: quota.tokensPerMinute,
      maxInFlight: quota.maxInFlight,
      burst,
    });
    if (shared) {
      // This process's part of the account, with room to spare: Temporal does not hand every
      // process the same number of chunks, and the queue's own pace is the one that holds.
      const share = (processes: number) => Math.min(1, SHARE_HEADROOM / processes);
      made.setShare(share(processesOn(shared.taskQueue)));
      onProcessesChange((queue, processes) => {
        if (queue === shared.taskQueue) made.setShare(share(processes));
      });
    }
    limiters.set(limiterId, made);
    limiter = made;
  }
  return new GovernedChatModel(model, { limiter, maxAttempts: config.maxAttempts });
}

export function limiterSnapshots() {
  return [...limiters.entries()].map(([id, l]) => ({ id, ...l.snapshot() }));
}
