import { RubricSchema, type Rubric, type RubricInput } from '../config/rubric';
import type { ChatModel } from './chat-model';
import type { NonceSource } from './prompts/delimit';
import { groupNonce } from './prompts/group-nonce';
import { promptCacheSupport } from '../config/prompt-cache-support';

export interface LlmJudgeOptions {
  /** One request per call; wrap it for retries and rate limits before passing it in. */
  chat: ChatModel;
  /** What responses are graded on (rubric mode) or compared on (preference mode). */
  rubric: RubricInput;
  temperature?: number;
  maxTokens?: number;
  /** Delimiter nonces; random by default, fixed in tests. */
  nonce?: NonceSource;
  /** Cache each group's prompt and reference when the model caches prompts (default true). */
  groupPromptCache?: boolean;
}

export { isBlank } from './blank';

/** What the rubric and preference judges share: the model they ask, the rubric, and how they ask. */
export abstract class LlmJudgeBase {
  readonly provider: string;
  readonly model: string;
  readonly rubric: Rubric;
  protected readonly chat: ChatModel;
  protected readonly temperature: number;
  protected readonly maxTokens: number;
  protected readonly nonce: NonceSource | undefined;
  private readonly groupPromptCache: boolean;

  constructor(options: LlmJudgeOptions) {
    this.chat = options.chat;
    this.provider = options.chat.provider;
    this.model = options.chat.model;
    this.rubric = RubricSchema.parse(options.rubric);
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 1024;
    this.nonce = options.nonce;
    this.groupPromptCache = options.groupPromptCache ?? true;
  }

  /** The system prompt of this judge's mode (the same for every call). */
  protected abstract get systemPrompt(): string;

  /**
   * Whether the calls about this prompt share a cached prefix (group prompt caching): the model
   * caches prompts, and the rubric with the prompt and reference is long enough for it to cache
   * (≈4 characters a token; a model caching was forced on for, unknown to the table, is assumed
   * to). Below the minimum nothing would be cached, and a group's first call would only make
   * the others wait.
   */
  groupCached(prompt: string, reference: string | undefined): boolean {
    if (!this.chat.promptCache || !this.groupPromptCache) return false;
    const min = promptCacheSupport(this.model)?.minTokens;
    return min === undefined || Math.ceil((this.systemPrompt.length + prompt.length + (reference?.length ?? 0)) / 4) >= min;
  }

  /** The delimiter nonces of one call: the group's when it shares a cached prefix, else fresh ones. */
  protected nonceFor(shared: boolean, prompt: string, reference: string | undefined): NonceSource | undefined {
    return this.nonce ?? (shared ? groupNonce(prompt, reference) : undefined);
  }
}
