import type { Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { connectSafely } from './closed-connection';

/** Where a fresh clone finds Temporal: the local dev server (`npm run server`). */
export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export interface TemporalSettings {
  /** Address, TLS, API key and gRPC metadata; the client and the worker connection take the same. */
  connectionOptions: NativeConnectionOptions & { address: string };
  address: string;
  namespace: string;
  taskQueue: string;
  /**
   * Shared judge queues (judge.sharedQuota.taskQueue of the runs) this worker also judges chunks
   * from: ARBITER_JUDGE_TASK_QUEUES, comma-separated.
   */
  judgeTaskQueues: string[];
}

/** What a command line may override, as the Temporal CLI's own flags do. */
export interface SettingsOverrides {
  address?: string;
  namespace?: string;
  profile?: string;
}

/**
 * Reads the settings the Temporal CLI reads, through the SDK's own loader so the two never
 * drift apart: the profile TEMPORAL_PROFILE (or "default") of TEMPORAL_CONFIG_FILE (or
 * ~/.config/temporalio/temporal.toml), then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_* and TEMPORAL_GRPC_META_* over it. A user who reaches
 * Temporal Cloud with `temporal` reaches it with Arbiter unchanged.
 */
export function temporalSettings(overrides: SettingsOverrides = {}, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const loaded = loadClientConnectConfig({
    profile: overrides.profile,
    overrideEnvVars: definedOnly(env),
  });
  const address = overrides.address ?? loaded.connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    connectionOptions: { ...withoutUndefined(loaded.connectionOptions), address },
    address,
    namespace: overrides.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE,
    taskQueue: env.ARBITER_TASK_QUEUE ?? 'arbiter',
    judgeTaskQueues: (env.ARBITER_JUDGE_TASK_QUEUES ?? '')
      .split(',')
      .map((q) => q.trim())
      .filter((q) => q !== ''),
  };
}

/** A client connection (CLI, service, demo, search-attribute registration); closing it never throws from a retry timer. */
export function connectClient(settings: TemporalSettings, connectTimeout?: string): Promise<Connection> {
  return connectSafely({ ...settings.connectionOptions, ...(connectTimeout ? { connectTimeout } : {}) });
}

/** A worker connection. */
export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The loader names every field, set or not; an explicit `tls: undefined` must not hide a default. */
function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
