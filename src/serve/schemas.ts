// JSON schemas the routes share (Fastify validates bodies with them and names every bad field).

/** A prompt and a response, or a trajectory (`messages`, each checked in full by RolloutSchema: a bad one refuses its sample). */
export const rolloutSchema = {
  type: 'object',
  required: ['id'],
  anyOf: [{ required: ['prompt', 'response'] }, { required: ['messages'] }],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 512 },
    prompt: { type: 'string' },
    response: { type: 'string' },
    messages: { type: 'array', minItems: 1, items: { type: 'object', required: ['role'] } },
    reference: { type: 'string' },
    group: { type: 'string' },
  },
  additionalProperties: false,
} as const;

/** The native routes' body: a batch of rollouts and an optional idempotency key. */
export const rewardsBody = {
  type: 'object',
  required: ['rollouts'],
  properties: { rollouts: { type: 'array', minItems: 1, items: rolloutSchema }, requestId: { type: 'string', minLength: 1, maxLength: 200 } },
  additionalProperties: false,
} as const;

export const runIdParam = {
  type: 'object',
  required: ['runId'],
  properties: { runId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' } },
} as const;
