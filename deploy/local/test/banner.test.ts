import { ownerLine } from '../banner.js';

const email = 'owner@hexa.local';
const password = 'a password of the owner';

describe("the banner's owner line", () => {
  it('shows a password that npm start generated and that signs in', () => {
    expect(ownerLine({ email, password, generated: true, passwordSignsIn: true })).toBe(`Organization owner: ${email} / ${password}`);
  });

  it('never shows a password given through HEXA_OWNER_PASSWORD, only where it came from', () => {
    const line = ownerLine({ email, password, generated: false, passwordSignsIn: true });
    expect(line).toBe(`Organization owner: ${email} (password from HEXA_OWNER_PASSWORD)`);
    expect(line).not.toContain(password);
  });

  it('shows no password that does not sign in, and says how to reset it', () => {
    for (const generated of [true, false]) {
      const line = ownerLine({ email, password, generated, passwordSignsIn: false });
      expect(line).not.toContain(password);
      expect(line).toContain('HEXA_OWNER_PASSWORD_RESET=true');
    }
  });
});
