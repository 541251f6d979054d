import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ownerLogin, startStack, type Stack } from './stack.js';

// The gateway and the files service run in this very process: their memory is this process's memory.
const fileBytes = 100 * 1024 ** 2;
const chunkBytes = 64 * 1024;
/** Far below the file's size: a transfer that buffered the file (or a good part of it) anywhere would pass it. */
const growthBound = 40 * 1024 ** 2;

let stack: Stack;
let token: string;
let slug: string;
let port: number;

beforeAll(async () => {
  stack = await startStack();
  await stack.gateway.listen({ host: '127.0.0.1', port: 0 });
  port = (stack.gateway.server.address() as AddressInfo).port;
  token = await stack.login(ownerLogin.email, ownerLogin.password);
  slug = (await stack.call({ method: 'POST', url: '/api/workspaces', token, payload: { name: 'Big Files' } })).json<{ slug: string }>().slug;
});
afterAll(() => stack.close());

/** Peak growth of RSS and heap over a baseline while `work` runs, sampled every 10 ms. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ result: T; rss: number; heap: number }> {
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - base.rss);
    heap = Math.max(heap, now.heapUsed - base.heapUsed);
  }, 10);
  try {
    return { result: await work(), rss, heap };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The same deterministic bytes for the upload and the check: chunk i is filled with i mod 251. The 251
 * chunks are made once, before any baseline is taken: the client side of the test (in this same
 * process) then allocates nothing while it sends, and what grows is the gateway's and the service's.
 */
const patterns = Array.from({ length: 251 }, (_, value) => Buffer.alloc(chunkBytes, value));
function* chunks(): Generator<Buffer> {
  for (let index = 0; index < fileBytes / chunkBytes; index += 1) yield patterns[index % 251]!;
}

describe('when a 100 MB file goes up and comes back through the gateway', () => {
  it('streams the upload to disk without the memory of the gateway or the service growing anywhere near the file', async () => {
    const expected = createHash('sha256');
    const { result, rss, heap } = await peakGrowth(
      () =>
        new Promise<number>((resolve, reject) => {
          const request = httpRequest(
            { host: '127.0.0.1', port, method: 'PUT', path: `/api/workspaces/${slug}/files/big/data.bin`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(fileBytes) } },
            (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            },
          );
          request.on('error', reject);
          void (async () => {
            for (const chunk of chunks()) {
              expected.update(chunk);
              if (!request.write(chunk)) await new Promise((done) => request.once('drain', done));
            }
            request.end();
          })();
        }),
    );
    expect(result).toBe(201);
    expect({ rss: rss < growthBound, heap: heap < growthBound }).toEqual({ rss: true, heap: true });
    process.stdout.write(`upload of 100 MB: peak growth rss ${(rss / 1024 ** 2).toFixed(1)} MiB, heap ${(heap / 1024 ** 2).toFixed(1)} MiB\n`);

    const { result: digest, rss: downRss, heap: downHeap } = await peakGrowth(
      () =>
        new Promise<{ status: number; sha: string; length: number }>((resolve, reject) => {
          const request = httpRequest({ host: '127.0.0.1', port, method: 'GET', path: `/api/workspaces/${slug}/files/big/data.bin`, headers: { authorization: `Bearer ${token}` } }, (response) => {
            const hash = createHash('sha256');
            let length = 0;
            response.on('data', (chunk: Buffer) => {
              length += chunk.length;
              hash.update(chunk);
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, sha: hash.digest('hex'), length }));
          });
          request.on('error', reject);
          request.end();
        }),
    );
    expect(digest).toEqual({ status: 200, sha: expected.digest('hex'), length: fileBytes });
    expect({ rss: downRss < growthBound, heap: downHeap < growthBound }).toEqual({ rss: true, heap: true });
    process.stdout.write(`download of 100 MB: peak growth rss ${(downRss / 1024 ** 2).toFixed(1)} MiB, heap ${(downHeap / 1024 ** 2).toFixed(1)} MiB\n`);
  }, 120_000);
});
