import { expect } from 'vitest';
import { ChatCallError } from '../../src/call-policy/chat-call-error';

/** The ChatCallError a chat model's call rejects with; fails the test if it resolves or rejects otherwise. */
export async function chatFailure(promise: Promise<unknown>): Promise<ChatCallError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChatCallError);
  return error as ChatCallError;
}
