import { generateKeyPairSync } from 'node:crypto';
import { listOperations } from '@hexa/contract';
import type { OperationHandlers } from '../src/http.js';
import { bindOperations, createHttpApp } from '../src/http.js';
import { createDatabase } from '../src/db.js';
import type { IdempotencyDatabase } from '../src/idempotency.js';
import { createInternalTokens } from '../src/internal-token.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const tokens = createInternalTokens({ service: 'workspaces', privateKey, publicKeys: { gateway: publicKey } });
// Never queried here (no request gets past the token check): a pool connects only on its first query.
const idempotency = createDatabase<IdempotencyDatabase>({ url: 'postgres://nobody@127.0.0.1:1/none', schema: 'unused' });
afterAll(() => idempotency.destroy());
const ok = async () => ({ status: 200 as const, body: [] as never });
/** A handler for every operation the contract gives workspaces (read from the contract, which grows). */
const everyHandler = Object.fromEntries(listOperations().filter((operation) => operation.service === 'workspaces').map((operation) => [operation.operationId, ok]));

describe('bindOperations', () => {
  it('refuses to boot a service when an operation of the contract has no handler', () => {
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    const { listCountries: _left, ...handlers } = everyHandler;
    expect(() => bindOperations(app, { service: 'workspaces', tokens, idempotency, handlers: handlers as unknown as OperationHandlers<'workspaces'> })).toThrow('workspaces: operations without a handler: listCountries');
  });

  it('refuses a handler for an operation the contract does not give the service', () => {
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    const handlers = { ...everyHandler, deleteEverything: ok } as unknown as OperationHandlers<'workspaces'>;
    expect(() => bindOperations(app, { service: 'workspaces', tokens, idempotency, handlers })).toThrow('workspaces: handlers for operations not in the contract: deleteEverything');
  });

  it('registers every operation of the service with a handler for each', async () => {
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    const handlers = everyHandler as unknown as OperationHandlers<'workspaces'>;
    bindOperations(app, { service: 'workspaces', tokens, idempotency, handlers });
    await app.ready();
    expect(app.hasRoute({ method: 'GET', url: '/workspaces/:slug' })).toBe(true);
    expect(app.hasRoute({ method: 'GET', url: '/countries' })).toBe(true);
    // Without an internal token nothing answers.
    const response = await app.inject({ method: 'GET', url: '/countries' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthenticated' });
    await app.close();
  });
});

describe('when a service has creating operations but no idempotency store', () => {
  it('refuses to boot', () => {
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    const handlers = everyHandler as unknown as OperationHandlers<'workspaces'>;
    expect(() => bindOperations(app, { service: 'workspaces', tokens, handlers })).toThrow('workspaces: creating operations need an idempotency store');
  });
});
