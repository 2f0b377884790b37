import { RubricSchema, type Rubric, type RubricInput } from '../config/rubric';
import type { ChatModel } from './chat-model';
import type { NonceSource } from './prompts/delimit';

export interface LlmJudgeOptions {
  /** One request per call; wrap it for retries and rate limits before passing it in. */
  chat: ChatModel;
  /** What responses are graded on (rubric mode) or compared on (preference mode). */
  rubric: RubricInput;
  temperature?: number;
  maxTokens?: number;
  /** Delimiter nonces; random by default, fixed in tests. */
  nonce?: NonceSource;
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

  constructor(options: LlmJudgeOptions) {
    this.chat = options.chat;
    this.provider = options.chat.provider;
    this.model = options.chat.model;
    this.rubric = RubricSchema.parse(options.rubric);
    this.temperature = options.temperature ?? 0;
    this.maxTokens = options.maxTokens ?? 1024;
    this.nonce = options.nonce;
  }
}
