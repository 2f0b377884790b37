import { z } from 'zod';
import { parseOrThrow } from './validation-error';

// Every sub-schema ends in `.prefault({})`: unlike `.default()`, it parses the empty object, so the
// field defaults inside apply and `{}` yields a complete config.

// Cross-field checks run only on otherwise valid input: on a half-parsed object they would add
// misleading issues next to the real one.
const onlyIfValid = ({ issues }: { issues: readonly unknown[] }): boolean => issues.length === 0;

const weight = z.number().min(0);

export const RewardWeightsSchema = z
  .object({
    judge: weight.default(1),
    format: weight.default(0),
    length: weight.default(0),
    language: weight.default(0),
    safety: weight.default(0),
  })
  .strict()
  .refine((weights) => Object.values(weights).some((w) => w > 0), {
    message: 'at least one weight must be positive, otherwise there is no reward to compute',
    when: onlyIfValid,
  })
  .prefault({});

export const FormatConfigSchema = z
  .object({
    /** The response must be JSON (bare, or alone inside one ```json fence). */
    json: z.boolean().default(false),
    /** Top-level keys the JSON object must have. */
    requiredFields: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((format) => format.json || format.requiredFields.length === 0, {
    path: ['requiredFields'],
    message: 'needs format.json: true (fields are looked up in the JSON response)',
    when: onlyIfValid,
  })
  .prefault({});

export const LengthConfigSchema = z
  .object({
    unit: z.enum(['chars', 'words']).default('chars'),
    min: z.number().int().min(0).default(0),
    max: z.number().int().min(0).optional(),
    /** Width of the decay band outside [min, max], as a fraction of the bound crossed. */
    tolerance: z.number().min(0).default(0.5),
  })
  .strict()
  .refine((length) => length.max === undefined || length.min <= length.max, {
    path: ['max'],
    message: 'must be at least min',
    when: onlyIfValid,
  })
  .prefault({});

const ISO_639_3 = /^[a-z]{3}$/;
const LANGUAGE_CODE_MESSAGE = 'expected an ISO 639-3 code such as "eng" or "deu" (not "en")';
const languageCode = z
  .string()
  .refine((code) => ISO_639_3.test(code) && code !== 'und', { message: LANGUAGE_CODE_MESSAGE });

export const LanguageConfigSchema = z
  .object({
    /** `prompt`: answer in the prompt's language; a code: always answer in that language. */
    match: z
      .string()
      .refine((match) => match === 'prompt' || (ISO_639_3.test(match) && match !== 'und'), {
        message: `expected "prompt" or ${LANGUAGE_CODE_MESSAGE.replace('expected ', '')}`,
      })
      .default('prompt'),
    /** Texts shorter than this (characters) are too short to call: neutral, not penalised. */
    minLength: z.number().int().min(1).default(20),
    /**
     * Languages the detector may choose from. Short prompts are easily mistaken for a close
     * language (English for Scots or Afrikaans); naming the languages of the run avoids that.
     */
    only: z.array(languageCode).min(1).optional(),
  })
  .strict()
  .refine((language) => language.match === 'prompt' || !language.only || language.only.includes(language.match), {
    path: ['only'],
    message: 'must include the language given in match',
    when: onlyIfValid,
  })
  .prefault({});

export const SafetyCategorySchema = z.enum(['pii-email', 'pii-phone', 'credential', 'self-harm']);
export type SafetyCategory = z.infer<typeof SafetyCategorySchema>;

export const SafetyPatternSchema = z
  .object({
    /** Named in reward notes instead of the matched text, which may itself be the leak. */
    id: z.string().min(1).max(64),
    regex: z.string().min(1),
    // `g` and `y` make RegExp#test stateful (lastIndex), so one response would affect the next.
    flags: z
      .string()
      .regex(/^[imsuv]*$/, 'only the flags i, m, s, u, v are allowed')
      .optional(),
  })
  .strict()
  .superRefine((pattern, ctx) => {
    try {
      new RegExp(pattern.regex, pattern.flags);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      ctx.addIssue({ code: 'custom', path: ['regex'], message: `pattern "${pattern.id}": ${reason}` });
    }
  });
export type SafetyPattern = z.infer<typeof SafetyPatternSchema>;

export const SafetyConfigSchema = z
  .object({
    patterns: z
      .array(SafetyPatternSchema)
      .default([])
      .superRefine((patterns, ctx) => {
        const seen = new Set<string>();
        patterns.forEach((pattern, index) => {
          if (seen.has(pattern.id)) {
            ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate pattern id "${pattern.id}"` });
          }
          seen.add(pattern.id);
        });
      }),
    /** Built-in rule sets; all of them unless narrowed. */
    categories: z.array(SafetyCategorySchema).default([...SafetyCategorySchema.options]),
    /** A hit sets the whole reward to minReward, whatever the other components say. */
    veto: z.boolean().default(true),
  })
  .strict()
  .prefault({});

export const RewardConfigSchema = z
  .object({
    weights: RewardWeightsSchema,
    format: FormatConfigSchema,
    length: LengthConfigSchema,
    language: LanguageConfigSchema,
    safety: SafetyConfigSchema,
    minReward: z.number().default(0),
    maxReward: z.number().default(1),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.minReward >= config.maxReward) {
      ctx.addIssue({ code: 'custom', path: ['maxReward'], message: 'must be greater than minReward' });
    }
    // A positive weight on a component with nothing to check would hand every sample 1.0 and
    // silently flatten the judge's signal.
    const idle = (component: string, why: string) =>
      ctx.addIssue({ code: 'custom', path: ['weights', component], message: `is positive but ${why}: nothing to check` });
    if (config.weights.format > 0 && !config.format.json) idle('format', 'format.json is false');
    if (config.weights.length > 0 && config.length.min === 0 && config.length.max === undefined) {
      idle('length', 'length sets neither min nor max');
    }
    if (config.weights.safety > 0 && config.safety.categories.length === 0 && config.safety.patterns.length === 0) {
      idle('safety', 'safety has no categories and no patterns');
    }
  }, { when: onlyIfValid });

export type RewardConfigInput = z.input<typeof RewardConfigSchema>;
export type RewardConfig = z.output<typeof RewardConfigSchema>;
export type RewardWeights = RewardConfig['weights'];
export type RewardComponentName = keyof RewardWeights;
export type FormatConfig = RewardConfig['format'];
export type LengthConfig = RewardConfig['length'];
export type LanguageConfig = RewardConfig['language'];
export type SafetyConfig = RewardConfig['safety'];

/** Validates the reward part of a run config, throwing a ConfigError whose lines name each bad field. */
export function parseRewardConfig(input: unknown): RewardConfig {
  return parseOrThrow(RewardConfigSchema, input ?? {}, 'reward config');
}
