import { Client, type Connection } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient, temporalSettings } from '../temporal/connection';
import { CliError } from './errors';
import { isUnreachable, rootMessage } from '../temporal/client-errors';
import { uiBaseUrl } from '../temporal/web-ui-link';
import { arbiterDataConverter } from '../temporal/payload-compression';

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
  profile?: string;
}

export interface Temporal {
  client: Client;
  connection: Connection;
  address: string;
  namespace: string;
  uiBase: string;
}

/** Flags win over the profile and the TEMPORAL_* variables, as with the Temporal CLI. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--address <host:port>', 'Temporal frontend (env TEMPORAL_ADDRESS, default localhost:7233)')
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE, default "default")')
    .option('--profile <name>', 'profile of the Temporal CLI config file (env TEMPORAL_PROFILE, default "default")');
}

/**
 * Connects, runs `body`, closes. Any failure to reach the server, at connect time or later,
 * becomes one readable line instead of a gRPC stack.
 */
export async function withTemporal<T>(flags: ConnectionFlags, body: (t: Temporal) => Promise<T>): Promise<T> {
  let settings;
  try {
    settings = temporalSettings(flags);
  } catch (err) {
    // A profile that is named but missing, or a config file that does not parse.
    throw new CliError(`Temporal connection settings: ${rootMessage(err)}`, 1);
  }
  const { address, namespace } = settings;
  const unreachable = (err: unknown) => new CliError(`cannot reach Temporal at ${address}: ${rootMessage(err)}`, 1);
  let connection: Connection;
  try {
    connection = await connectClient(settings, '5s');
  } catch (err) {
    throw unreachable(err);
  }
  try {
    const client = new Client({ connection, namespace, dataConverter: arbiterDataConverter });
    return await body({ client, connection, address, namespace, uiBase: uiBaseUrl(address) });
  } catch (err) {
    if (!(err instanceof CliError) && isUnreachable(err)) throw unreachable(err);
    throw err;
  } finally {
    await connection.close().catch(() => {});
  }
}
