import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { useMetricMeter } from '../metrics/arbiter-metrics';

export const METRICS_ADDRESS_VAR = 'ARBITER_METRICS_ADDRESS';

/**
 * The worker's Prometheus endpoint, from ARBITER_METRICS_ADDRESS (`host:port`, e.g.
 * `0.0.0.0:9464`); undefined (no endpoint) when unset.
 */
export function metricsAddressFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const address = env[METRICS_ADDRESS_VAR]?.trim();
  if (!address) return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || !(port > 0 && port < 65536)) {
    throw new Error(`${METRICS_ADDRESS_VAR}=${address} is not host:port (e.g. 0.0.0.0:9464)`);
  }
  return address;
}

/**
 * Installs the process's Temporal runtime with a Prometheus exporter on `bindAddress`
 * (`/metrics`): Temporal's own worker metrics (task slots, poll and schedule-to-start latencies,
 * activity and workflow task outcomes) and, through the same runtime meter, Arbiter's
 * (src/metrics/arbiter-metrics.ts). Must run before the worker's connection is made.
 */
export function installMetricsRuntime(bindAddress: string, extra: Omit<RuntimeOptions, 'telemetryOptions'> = {}): void {
  Runtime.install({
    ...extra,
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress,
          // Latencies in seconds, as Prometheus (and Temporal's published dashboards) expect.
          useSecondsForDurations: true,
          histogramBucketOverrides: {
            // Judge calls take tens of milliseconds to a minute.
            arbiter_judge_call_latency_seconds: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          },
        },
      },
    },
  });
  useMetricMeter(Runtime.instance().metricMeter);
}
