import { Command } from 'commander';
import { codecServerCommand } from './codec-server';
import { configCommand } from './config';
import { CliError } from './errors';
import { rootMessage } from '../temporal/client-errors';
import { judgeCommand } from './judge';
import { reviewCommand } from './review';
import { runCommand } from './run';
import { serveCommand } from './serve';
import { setupCommand } from './setup';

/** `arbiter`: the run's controls from a terminal. Every command maps to a plain `temporal` command too. */
export function program(): Command {
  return new Command('arbiter')
    .description('Arbiter: durable LLM-as-a-judge rewards for RL fine-tuning, on Temporal')
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(judgeCommand())
    .addCommand(reviewCommand())
    .addCommand(configCommand())
    .addCommand(setupCommand())
    .addCommand(serveCommand())
    .addCommand(codecServerCommand());
}

// `arbiter ... | head` closes the pipe early: that is the reader being done, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

try {
  await program().parseAsync(process.argv);
} catch (err) {
  // People read this output: one line of what went wrong, never a stack, unless asked for.
  if (process.env.ARBITER_DEBUG) console.error(err);
  if (err instanceof CliError) {
    console.error(err.message);
    process.exitCode = err.exitCode;
  } else {
    console.error(`error: ${rootMessage(err)}`);
    process.exitCode = 1;
  }
}
