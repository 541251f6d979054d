import type { AddressInfo } from 'node:net';
import { ownerLogin, startStack, type Stack } from './stack.js';
import { rawRequest } from './raw-http.js';
import { refusingUrl } from './upstreams.js';

// Everything the gateway logs, at the most talkative level, for requests that carry a secret in the
// query string: forwarded and answered, forwarded to a service that is down, refused by the router,
// by the URL parser and by the HTTP parser.

const secret = 's3cret-value-0427';
const lines: string[] = [];
let stack: Stack;
let port: number;
let authorization: string;

beforeAll(async () => {
  stack = await startStack();
  const gateway = await stack.startGateway({
    env: { LOG_LEVEL: 'trace', WORKSPACES_URL: await refusingUrl() },
    logDestination: { write: (line: string) => void lines.push(line) },
  });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  port = (gateway.server.address() as AddressInfo).port;
  authorization = `Bearer ${await stack.login(ownerLogin.email, ownerLogin.password)}`;
});
afterAll(() => stack.close());

describe('when requests carry a credential in the query string', () => {
  it('never writes it to the gateway\'s log, while the log does show the requests', async () => {
    const answers = [
      await rawRequest(port, 'POST', `/api/auth/refresh?token=${secret}&password=${secret}`, { 'content-length': '0' }),
      await rawRequest(port, 'GET', `/api/countries?access_token=${secret}`, { authorization }),
      await rawRequest(port, 'GET', `/api/workspaces/any-place?refresh_token=${secret}&page=1`, { authorization }),
      await rawRequest(port, 'GET', `/api/no-such-operation?token=${secret}`, { authorization }),
      await rawRequest(port, 'GET', `/api/workspaces/%E0%A4%A?token=${secret}`, { authorization }),
      await rawRequest(port, 'GET', `/api/workspaces/${'a'.repeat(500)}?token=${secret}`, { authorization }),
      await rawRequest(port, 'GET', `/api/workspaces?secret=${secret}&query=${'q'.repeat(20_000)}`, { authorization }),
    ];
    // Answered by membership (an unknown query parameter), by a service that is down (twice), by the router, by the URL check, the parameter check and the HTTP parser.
    expect(answers.map((answer) => answer.status)).toEqual([400, 503, 503, 404, 400, 414, 431]);

    const log = lines.join('');
    expect(log).toContain('token=[redacted]');
    expect(log).toContain('access_token=[redacted]');
    expect(log).toContain('service failed');
    expect(log).not.toContain(secret);
  });
});
