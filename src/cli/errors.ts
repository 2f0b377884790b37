/** An error meant for the person at the terminal: printed as is, no stack, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit code for input the user must fix (a bad config or request): distinct from runtime failures. */
export const EXIT_INVALID = 2;
