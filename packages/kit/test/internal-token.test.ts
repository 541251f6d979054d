import { generateKeyPairSync } from 'node:crypto';
import { createDecoder, createSigner } from 'fast-jwt';
import { listOperations } from '@hexa/contract';
import { bindOperations, createHttpApp, type OperationHandlers } from '../src/http.js';
import { createDatabase } from '../src/db.js';
import type { IdempotencyDatabase } from '../src/idempotency.js';
import { createInternalTokens, internalTokenHeader, type Caller } from '../src/internal-token.js';

// Keys in the format `npm start` makes them: Ed25519, PKCS8 and SPKI PEM.
const ed25519Pem = () => generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const gatewayKeys = ed25519Pem();
const gateway = createInternalTokens({ service: 'gateway', privateKey: gatewayKeys.privateKey, publicKeys: {} });
const workspacesKeys = ed25519Pem();
const workspaces = createInternalTokens({ service: 'workspaces', privateKey: workspacesKeys.privateKey, publicKeys: { gateway: gatewayKeys.publicKey } });

const operation = { signature: 'GET /countries', callers: ['gateway'] } as const;
// A signed-in user, as only the gateway may name one (`GET /countries` answers no anonymous caller).
const caller: Caller = { kind: 'user', userId: '00000000-0000-4000-8000-000000000001', organizationRole: 'MEMBER', adminSomewhere: false };
const lifetimeSeconds = 30;

/** A token as the gateway mints one, but signed `ageMs` ago. */
function mintedAgo(ageMs: number): string {
  return createSigner({ key: gatewayKeys.privateKey, algorithm: 'EdDSA', iss: 'gateway', expiresIn: lifetimeSeconds * 1000, clockTimestamp: Date.now() - ageMs })({
    aud: 'workspaces',
    op: operation.signature,
    caller,
  });
}

/** Runs `action` as if the clock were `shiftMs` ahead (fast-jwt reads `Date.now()`, also for its cache). */
function later<T>(shiftMs: number, action: () => T): T {
  const realNow = Date.now;
  Date.now = () => realNow() + shiftMs;
  try {
    return action();
  } finally {
    Date.now = realNow;
  }
}

function refusal(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return { code: (error as { code?: unknown }).code, status: (error as { status?: unknown }).status };
  }
  return 'accepted';
}

describe('an internal token', () => {
  it('lives 30 seconds from when it is minted', () => {
    const claims = createDecoder()(gateway.sign({ audience: 'workspaces', operation: operation.signature, caller })) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(lifetimeSeconds);
  });

  it('is refused with 401 token_expired once its 30 seconds are over, even after it was verified (and cached) while valid', () => {
    const token = gateway.sign({ audience: 'workspaces', operation: operation.signature, caller });
    expect(workspaces.verify(token, operation)).toEqual(caller);
    expect(later(25_000, () => workspaces.verify(token, operation))).toEqual(caller);
    expect(later(31_000, () => refusal(() => workspaces.verify(token, operation)))).toEqual({ code: 'token_expired', status: 401 });
  });

  it('is refused with 401 token_expired when it was signed with the issuer\'s real key 31 seconds ago', () => {
    expect(refusal(() => workspaces.verify(mintedAgo(31_000), operation))).toEqual({ code: 'token_expired', status: 401 });
    // The same token, minted within its lifetime, passes: only the age differs.
    expect(workspaces.verify(mintedAgo(5_000), operation)).toEqual(caller);
  });
});

describe('when a service route receives an expired internal token', () => {
  // Never queried here (no request gets past the token check): a pool connects only on its first query.
  const idempotency = createDatabase<IdempotencyDatabase>({ url: 'postgres://nobody@127.0.0.1:1/none', schema: 'unused' });
  afterAll(() => idempotency.destroy());

  it('answers 401 token_expired problem+json and never runs the handler', async () => {
    let handled = 0;
    const ok = async () => {
      handled += 1;
      return { status: 200 as const, body: [] as never };
    };
    const handlers = Object.fromEntries(listOperations().filter((candidate) => candidate.service === 'workspaces').map((candidate) => [candidate.operationId, ok]));
    const app = createHttpApp({ service: 'workspaces', logLevel: 'silent' });
    bindOperations(app, { service: 'workspaces', tokens: workspaces, idempotency, handlers: handlers as unknown as OperationHandlers<'workspaces'> });
    await app.ready();
    try {
      const expired = await app.inject({ method: 'GET', url: '/countries', headers: { [internalTokenHeader]: mintedAgo(31_000) } });
      expect(expired.statusCode).toBe(401);
      expect(expired.headers['content-type']).toContain('application/problem+json');
      expect(expired.json()).toMatchObject({ status: 401, code: 'token_expired' });
      expect(handled).toBe(0);

      const fresh = await app.inject({ method: 'GET', url: '/countries', headers: { [internalTokenHeader]: mintedAgo(0) } });
      expect([fresh.statusCode, fresh.body]).toEqual([200, "[]"]);
      expect(handled).toBe(1);
    } finally {
      await app.close();
    }
  });
});
