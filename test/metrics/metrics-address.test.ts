import { describe, expect, it } from 'vitest';
import { metricsAddressFromEnv } from '../../src/worker/metrics';

describe('ARBITER_METRICS_ADDRESS', () => {
  it('is off when unset or empty, host:port otherwise', () => {
    expect(metricsAddressFromEnv({})).toBeUndefined();
    expect(metricsAddressFromEnv({ ARBITER_METRICS_ADDRESS: ' ' })).toBeUndefined();
    expect(metricsAddressFromEnv({ ARBITER_METRICS_ADDRESS: '0.0.0.0:9464' })).toBe('0.0.0.0:9464');
    expect(metricsAddressFromEnv({ ARBITER_METRICS_ADDRESS: '[::]:9464' })).toBe('[::]:9464');
    expect(metricsAddressFromEnv({ ARBITER_METRICS_ADDRESS: 'arbiter-worker:9464' })).toBe('arbiter-worker:9464');
  });

  it('refuses what the exporter could not bind, naming the variable', () => {
    for (const bad of ['9464', 'http://0.0.0.0:9464', '0.0.0.0:99999', '0.0.0.0:0', 'host:port']) {
      expect(() => metricsAddressFromEnv({ ARBITER_METRICS_ADDRESS: bad })).toThrow(/ARBITER_METRICS_ADDRESS=.* is not host:port/);
    }
  });
});
