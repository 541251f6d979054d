import { createSigner } from 'fast-jwt';
import { generateSigningKeys } from '@hexa/testing';
import { ownerLogin, startStack, type Stack } from './stack.js';

let stack: Stack;
let ownerToken: string;
beforeAll(async () => {
  stack = await startStack();
  ownerToken = await stack.login(ownerLogin.email, ownerLogin.password);
});
afterAll(() => stack.close());

/** An access token as membership would sign it, with any key; `expiresInMs` below zero makes an expired one. */
function sign(privateKey: string, expiresInMs: number, sub: string) {
  const iat = Math.floor(Date.now() / 1000);
  return createSigner({ key: privateKey, algorithm: 'EdDSA', iss: 'hexa-membership', aud: 'hexa-api', noTimestamp: true })({ sub, iat, exp: iat + Math.floor(expiresInMs / 1000) });
}

describe('when the access token is missing, forged or expired', () => {
  it('answers 401 with unauthenticated, invalid_token and token_expired', async () => {
    const missing = await stack.call({ method: 'GET', url: '/api/workspaces' });
    expect([missing.statusCode, missing.json().code]).toEqual([401, 'unauthenticated']);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    const forged = await stack.call({ method: 'GET', url: '/api/me', token: sign(generateSigningKeys().privateKey, 300_000, 'someone') });
    expect([forged.statusCode, forged.json().code]).toEqual([401, 'invalid_token']);
    const me = (await stack.call({ method: 'GET', url: '/api/me', token: ownerToken })).json();
    const expired = await stack.call({ method: 'GET', url: '/api/me', token: sign(stack.keys.privateKey, -60_000, me.id) });
    expect([expired.statusCode, expired.json().code]).toEqual([401, 'token_expired']);
  });
});

describe('when a workspace is created with bad input', () => {
  it.each([
    ['malformed JSON', '{"name":', 'malformed_body'],
    ['an unknown field', JSON.stringify({ name: 'X', countrys: ['BF'] }), 'invalid_input'],
    ['a wrong type', JSON.stringify({ name: 42 }), 'invalid_input'],
    ['an overlong name', JSON.stringify({ name: 'x'.repeat(101) }), 'invalid_input'],
    ['an unknown country', JSON.stringify({ name: 'X', countries: ['XX'] }), 'invalid_input'],
  ])('answers 400 for %s', async (_case, payload, code) => {
    const response = await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, headers: { 'content-type': 'application/json' }, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe(code);
  });

  it('names the unknown field', async () => {
    const response = await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, payload: { name: 'X', countrys: ['BF'] } });
    expect(response.json().errors).toEqual([{ field: 'body/countrys', message: 'unknown field "countrys"' }]);
  });
});

describe('when people without the right ask', () => {
  it('refuses creation to a plain member (403) and hides workspaces from non-members (404)', async () => {
    await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, payload: { name: 'Hidden Place' } });
    const member = await stack.createUser('member@example.org', 'MEMBER');
    const refused = await stack.call({ method: 'POST', url: '/api/workspaces', token: member.token, payload: { name: 'Mine' } });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'forbidden']);
    const hidden = await stack.call({ method: 'GET', url: '/api/workspaces/hidden-place', token: member.token });
    const unknown = await stack.call({ method: 'GET', url: '/api/workspaces/no-such-place', token: member.token });
    expect([hidden.statusCode, hidden.json().code]).toEqual([404, 'workspace_not_found']);
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'workspace_not_found']);
    const list = await stack.call({ method: 'GET', url: '/api/workspaces', token: member.token });
    expect(list.json().items).toEqual([]);
  });

  it('gives a colliding name a slug with a random suffix', async () => {
    const first = await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, payload: { name: 'Twin' } });
    const second = await stack.call({ method: 'POST', url: '/api/workspaces', token: ownerToken, payload: { name: 'Twin' } });
    expect(first.json().slug).toBe('twin');
    expect(second.json().slug).toMatch(/^twin-[0-9a-f]{6}$/);
  });
});
