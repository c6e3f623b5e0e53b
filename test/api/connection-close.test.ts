/**
 * On a real socket: a response sent before its request body arrived (413 on Content-Length, 401 before
 * the body is read) says `Connection: close`, so a keep-alive client opens a new connection instead of
 * sending its next request into a socket the server is closing; a request whose body was read keeps
 * the connection for the next one.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/shared/limits.js';
import { startHttpApi, TEST_ADMIN_TOKEN, uniqueId } from '../helpers/context.js';

let port: number;

beforeAll(async () => {
  const { baseUrl } = await startHttpApi({ taskQueue: uniqueId('connection') });
  port = Number(new URL(baseUrl).port);
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
}

/** Reads one HTTP/1.1 response (head and Content-Length body) from `socket`. */
async function readResponse(socket: net.Socket, buffered: { data: Buffer }): Promise<RawResponse> {
  for (;;) {
    const headEnd = buffered.data.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      const [statusLine, ...lines] = buffered.data.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const total = headEnd + 4 + Number(headers['content-length'] ?? 0);
      if (buffered.data.length >= total) {
        buffered.data = buffered.data.subarray(total);
        return { status: Number(statusLine!.split(' ')[1]), headers };
      }
    }
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    buffered.data = Buffer.concat([buffered.data, chunk]);
  }
}

function connect(): Promise<{ socket: net.Socket; buffered: { data: Buffer }; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve({ socket, buffered: { data: Buffer.alloc(0) }, closed: once(socket, 'close').then(() => {}) }));
    socket.once('error', reject);
  });
}

const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

describe('early responses on a keep-alive connection', () => {
  it('answers a Content-Length over the limit with 413 and Connection: close, then closes', async () => {
    const { socket, buffered, closed } = await connect();
    socket.on('error', () => {});
    // Only the head and a little of the announced body: the answer must not wait for the rest.
    socket.write(head('POST', '/admin/teams', { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) }));
    socket.write('{"teamId":"');
    const res = await readResponse(socket, buffered);
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    await closed;
  });

  it('answers an unauthenticated body it has not read with 401 and Connection: close', async () => {
    const { socket, buffered, closed } = await connect();
    socket.on('error', () => {});
    socket.write(head('POST', '/admin/teams', { 'content-type': 'application/json', 'content-length': String(LIMITS.requestBodyBytesMax) }));
    socket.write('{"teamId":"');
    const res = await readResponse(socket, buffered);
    expect(res.status).toBe(401);
    expect(res.headers.connection).toBe('close');
    await closed;
  });

  it('keeps the connection after a rejected request whose body it read, and answers the next request on it', async () => {
    const { socket, buffered } = await connect();
    const body = JSON.stringify({ teamId: 'x' });
    socket.write(head('POST', '/admin/teams', { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-length': String(body.length) }) + body);
    const first = await readResponse(socket, buffered);
    expect(first.status).toBe(400);
    expect(first.headers.connection).toBe('keep-alive');
    socket.write(head('GET', '/health/live', {}));
    expect((await readResponse(socket, buffered)).status).toBe(200);
    socket.destroy();
  });

  it('lets a keep-alive client send 10 MB bodies, get 413s and carry on without a connection error', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        // The server may stop reading once it has answered; the answer is what counts.
        req.on('socket', (s) => s.on('error', () => {}));
        req.on('error', reject);
        req.end(body);
      });
    try {
      for (let i = 0; i < 3; i++) {
        expect(await send('POST', '/admin/teams', Buffer.alloc(10 * 1024 * 1024, 'x'))).toBe(413);
        expect(await send('GET', '/health/live')).toBe(200);
      }
    } finally {
      agent.destroy();
    }
  });
});
