import { afterAll, beforeAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/temporal/dev-server/free-port';

const SCRIPT = fileURLToPath(new URL('../../scripts/s3-server', import.meta.url));

/** The environment that points the AWS default chain of a process at the test S3 server. */
export interface S3Server {
  endpoint: string;
  bucket: string;
  /** `s3://<bucket>/<prefix>` */
  location(prefix: string): string;
  env: Record<string, string | undefined>;
  /** Points this process (and the processes it starts later) at the server; returns the undo. */
  use(): () => void;
  /** Kills the server (SIGKILL) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a real S3-compatible server (gofakes3 with its bolt backend, found or built by
 * scripts/s3-server) on a loopback port, with one bucket, its data in a temp folder.
 */
export async function startS3Server(bucket = 'arbiter-test'): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'arbiter-s3-server-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let proc: ChildProcess;
  let output = '';
  const start = async () => {
    proc = spawn('bash', [SCRIPT, '-backend', 'bolt', '-bolt.db', join(dir, 's3.db'), '-host', `127.0.0.1:${port}`, '-initialbucket', bucket, '-quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    proc.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    await untilListening(port, proc, () => output);
  };
  const kill = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill('SIGKILL');
      await exited;
    }
  };
  await start();
  const env = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'AKIDS3TEST',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 's3-test-secret',
  };
  return {
    endpoint,
    bucket,
    location: (prefix) => `s3://${bucket}/${prefix}`,
    env,
    use() {
      const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
      Object.assign(process.env, env);
      return () => {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      };
    },
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function untilListening(port: number, proc: ChildProcess, output: () => string): Promise<void> {
  // The first call may build the server with go install (seconds, once).
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`the S3 server exited with ${proc.exitCode}:\n${output()}`);
    if (await answers(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the S3 server did not listen on ${port} within 180 s:\n${output()}`);
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * One S3 server for the test file: started before its tests (this process's AWS settings pointed
 * at it meanwhile), stopped after them. Returns the server, to be read inside tests.
 */
export function useS3Server(): () => S3Server {
  let server: S3Server | undefined;
  let undoEnv: (() => void) | undefined;
  beforeAll(async () => {
    server = await startS3Server();
    undoEnv = server.use();
  }, 200_000);
  afterAll(async () => {
    undoEnv?.();
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('the S3 server is not started yet: read it inside a test');
    return server;
  };
}
