/** Temporal Cloud's namespace endpoints (mTLS) and regional API-key endpoints. */
const CLOUD_HOSTS = ['.tmprl.cloud', '.api.temporal.io'];

/**
 * The Web UI's base URL for a frontend address: TEMPORAL_UI_URL when set; Temporal Cloud's UI
 * for a Cloud address; otherwise the dev server's convention of listening 1000 ports above the
 * frontend (7233 -> 8233). A guess for other deployments, which is why the variable exists.
 */
export function uiBaseUrl(address: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.TEMPORAL_UI_URL?.trim();
  if (configured) return configured.replace(/\/+$/, '');
  const colon = address.lastIndexOf(':');
  const hasPort = colon > address.lastIndexOf(']');
  const host = hasPort ? address.slice(0, colon) : address;
  if (CLOUD_HOSTS.some((suffix) => host.endsWith(suffix))) return 'https://cloud.temporal.io';
  const port = hasPort ? Number(address.slice(colon + 1)) : 7233;
  return `http://${host}:${(Number.isFinite(port) ? port : 7233) + 1000}`;
}

/** A run's page in the Web UI. */
export function workflowUrl(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
