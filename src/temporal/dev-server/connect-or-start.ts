import { connectClient, type TemporalSettings } from '../connection';
import { uiBaseUrl } from '../web-ui-link';
import { startDevServer, type DevServer } from './start-dev-server';
import { freePort } from './free-port';

export interface TemporalTarget {
  /** The settings to connect with: the ones given, or the dev server started here. */
  settings: TemporalSettings;
  uiUrl: string;
  /** Set when we started the server ourselves; it stops with `stop()`. */
  devServer: DevServer | undefined;
}

/**
 * Uses the server the settings name when one answers; otherwise, for a local address, starts a
 * dev server (on the usual 7233/8233 ports when they are free) so a fresh clone just works.
 */
export async function connectOrStart(settings: TemporalSettings, log: (line: string) => void): Promise<TemporalTarget> {
  const { address } = settings;
  if (await answers(settings)) {
    return { settings, uiUrl: uiBaseUrl(address), devServer: undefined };
  }
  const [host, portText] = address.split(':');
  if (host !== 'localhost' && host !== '127.0.0.1') {
    throw new Error(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS or the Temporal profile); start it or change the setting`);
  }
  log(`no Temporal server at ${address}: starting a dev server for this demo`);
  const port = Number(portText ?? 7233);
  const devServer = await startDevServer({
    port: (await isFree(port)) ? port : await freePort(),
    uiPort: (await isFree(8233)) ? 8233 : await freePort(),
    log,
  });
  return {
    // The dev server speaks plain gRPC without credentials, whatever the profile said.
    settings: { ...settings, address: devServer.address, connectionOptions: { address: devServer.address } },
    uiUrl: devServer.uiUrl,
    devServer,
  };
}

async function answers(settings: TemporalSettings): Promise<boolean> {
  try {
    const connection = await connectClient(settings, '2s');
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
