import { Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from './start-dev-server';
import { freePort } from './free-port';

export interface TemporalTarget {
  address: string;
  uiUrl: string;
  /** Set when we started the server ourselves; it stops with `stop()`. */
  devServer: DevServer | undefined;
}

/**
 * Uses the server at `address` when one answers; otherwise, for a local address, starts a
 * dev server (on the usual 7233/8233 ports when they are free) so a fresh clone just works.
 */
export async function connectOrStart(address: string, log: (line: string) => void): Promise<TemporalTarget> {
  if (await answers(address)) {
    return { address, uiUrl: process.env.TEMPORAL_UI_URL ?? guessUiUrl(address), devServer: undefined };
  }
  const [host, portText] = address.split(':');
  if (host !== 'localhost' && host !== '127.0.0.1') {
    throw new Error(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS); start it or unset the variable`);
  }
  log(`no Temporal server at ${address}: starting a dev server for this demo`);
  const port = Number(portText ?? 7233);
  const devServer = await startDevServer({
    port: (await isFree(port)) ? port : await freePort(),
    uiPort: (await isFree(8233)) ? 8233 : await freePort(),
    log,
  });
  return { address: devServer.address, uiUrl: devServer.uiUrl, devServer };
}

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: '2s' });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function isFree(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function guessUiUrl(address: string): string {
  const [host, port] = address.split(':');
  // The dev server's Web UI listens 1000 above its frontend port by default.
  return `http://${host}:${Number(port ?? 7233) + 1000}`;
}
