/**
 * A recording pass-through in front of stripe-mock, for tests only: it forwards every request
 * unchanged and remembers method, path, Idempotency-Key, body and the id of the object answered, so a
 * test can assert what reached "Stripe" and with which key, and the simulated Stripe can rebuild what
 * Stripe would know. It answers GET /__recorder/requests itself.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** Arrival order, from 1. */
  seq: number;
  method: string;
  path: string;
  idempotencyKey: string | null;
  body: string;
  status: number;
  /** The `id` of the object stripe-mock answered with (its ids are random: a price or session is known by it). */
  responseId: string | null;
  at: number;
}

export async function startStripeRecorder(
  target: string,
  /** Delay before forwarding each request: makes a crash land mid-call more often. */
  opts: { latencyMs?: number } = {},
): Promise<{ url: string; server: Server; requests: RecordedRequest[]; inFlight: () => number}> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  let pending = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/__recorder/requests')) {
      const q = new URL(req.url, 'http://x').searchParams;
      const since = Number(q.get('since') ?? 0);
      const after = Number(q.get('after') ?? 0);
      const path = q.get('path');
      const contains = q.get('contains');
      const out = requests.filter(
        (r) => r.at >= since && r.seq > after && (!path || r.path.startsWith(path)) && (!contains || r.body.includes(contains) || (r.idempotencyKey ?? '').includes(contains)),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      pending++;
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const body = Buffer.concat(chunks);
      const forward = httpRequest(
        { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          const answer: Buffer[] = [];
          up.on('data', (c: Buffer) => answer.push(c));
          up.on('end', () => {
            const text = Buffer.concat(answer);
            let responseId: string | null = null;
            try {
              responseId = (JSON.parse(text.toString('utf8')) as { id?: string }).id ?? null;
            } catch {
              /* not JSON */
            }
            requests.push({
              seq: requests.length + 1,
              method: req.method ?? 'GET',
              path: (req.url ?? '').split('?')[0]!,
              idempotencyKey: (req.headers['idempotency-key'] as string | undefined) ?? null,
              body: body.toString('utf8'),
              status: up.statusCode ?? 0,
              responseId,
              at: Date.now(),
            });
            pending--;
            res.writeHead(up.statusCode ?? 502, up.headers).end(text);
          });
        },
      );
      forward.on('error', (err) => {
        pending--;
        res.writeHead(502).end(String(err));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, requests, inFlight: () => pending };
}

/** Reads what the recorder saw (from any test process). */
export async function recordedStripeRequests(
  recorderUrl: string,
  filter: { path?: string; contains?: string; since?: number; after?: number } = {},
): Promise<RecordedRequest[]> {
  const q = new URLSearchParams();
  if (filter.after) q.set('after', String(filter.after));
  if (filter.path) q.set('path', filter.path);
  if (filter.contains) q.set('contains', filter.contains);
  if (filter.since) q.set('since', String(filter.since));
  const res = await fetch(`${recorderUrl}/__recorder/requests?${q}`);
  return (await res.json()) as RecordedRequest[];
}
