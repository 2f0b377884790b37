import { Agent, request } from 'node:http';

/**
 * A benchmark's HTTP client: node:http with kept-alive connections, no more. The clients of
 * bench:serve share a process and two cores with what they measure, and undici's fetch cost
 * about as much CPU per request as the service itself (a CPU profile of the benchmark's process:
 * 38 % of its busy time in fetch), which the answers then waited for.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

export function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const target = new URL(url);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
