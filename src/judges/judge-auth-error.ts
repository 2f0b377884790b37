/** The judge's credentials were refused: no later call can succeed, so whatever is judging stops at once. */
export class JudgeAuthError extends Error {
  override name = 'JudgeAuthError';
}
