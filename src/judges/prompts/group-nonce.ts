import { createHmac, randomBytes } from 'node:crypto';
import type { NonceSource } from './delimit';

// Random per process: a policy never sees it, so it cannot predict a group's nonce either.
const SECRET = randomBytes(32);

/**
 * The delimiter nonce every call about one prompt shares, so that the part of their messages
 * holding the prompt and the reference is byte-identical and a provider's prompt cache can
 * serve it to the whole group. Still unguessable to the policy (keyed by a secret of this
 * process), and the data inside cannot forge a tag whatever the nonce (delimit.ts).
 */
export function groupNonce(prompt: string, reference: string | undefined): NonceSource {
  const value = createHmac('sha256', SECRET).update(prompt).update(reference === undefined ? '\u0000' : `\u0001${reference}`).digest('hex').slice(0, 16);
  return () => value;
}
