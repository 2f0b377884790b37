import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { temporalEnv } from '../temporal-env';
import { CliError, isUnreachable, rootMessage } from './errors';
import { uiBaseUrl } from '../temporal/web-ui-link';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
}

export interface Temporal {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
  uiBase: string;
}

/** Flags win over TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, as with the Temporal CLI. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default localhost:7233)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")');
}

/**
 * Connects, runs `body`, closes. Any failure to reach the server, at connect time or later,
 * becomes one readable line instead of a gRPC stack.
 */
export async function withTemporal<T>(flags: ConnectionFlags, body: (t: Temporal) => Promise<T>): Promise<T> {
  const env = temporalEnv();
  const address = flags.address ?? env.address;
  const namespace = flags.namespace ?? env.namespace;
  const unreachable = (err: unknown) => new CliError(`cannot reach Temporal at ${address}: ${rootMessage(err)}`, 1);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
  } catch (err) {
    throw unreachable(err);
  }
  try {
    const client = new Client({ connection, namespace });
    return await body({ client, connection, address, namespace, uiBase: uiBaseUrl(address) });
  } catch (err) {
    if (!(err instanceof CliError) && isUnreachable(err)) throw unreachable(err);
    throw err;
  } finally {
    await connection.close().catch(() => {});
  }
}
