import { Command } from 'commander';
import { buildCodecServer, DEFAULT_UI_ORIGINS } from '../temporal/codec-server';
import { CliError, EXIT_INVALID } from './errors';

interface CodecServerFlags {
  port: string;
  host: string;
  uiOrigin?: string[];
}

export function codecServerCommand(): Command {
  return new Command('codec-server')
    .description('Temporal codec server: lets the Web UI (--ui-codec-endpoint) and the Temporal CLI (--codec-endpoint) show the payloads Arbiter stores compressed')
    .option('--port <n>', 'port to listen on', '8888')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--ui-origin <url>',
      `origin of a Web UI allowed to call from a browser (repeatable; default ${DEFAULT_UI_ORIGINS.join(', ')})`,
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
    )
    .action(async (opts: CodecServerFlags) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port ${opts.port}: expected an integer in [0, 65535]`, EXIT_INVALID);
      // As a browser sends it (no trailing slash, default ports left out), or it never matches.
      const origins = (opts.uiOrigin ?? DEFAULT_UI_ORIGINS).map((origin) => {
        const normal = originOf(origin);
        if (!normal) throw new CliError(`--ui-origin ${origin}: expected an origin such as http://localhost:8233 (scheme, host, port; no path)`, EXIT_INVALID);
        return normal;
      });
      const app = await buildCodecServer({ origins });
      const address = await app.listen({ port, host: opts.host });
      console.log(`arbiter codec-server listening on ${address} for the Web UI at ${origins.join(', ')}`);
      console.log(`  dev server: npm run server -- --ui-codec-endpoint ${address}`);
      console.log(`  Temporal CLI: temporal workflow show --workflow-id <run> --codec-endpoint ${address}`);
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await app.close();
    });
}

function originOf(text: string): string | undefined {
  try {
    const url = new URL(text);
    const whole = (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '');
    return whole ? url.origin : undefined;
  } catch {
    return undefined;
  }
}
