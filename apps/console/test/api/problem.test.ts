import { problemMessage } from '../../src/api/problem';

const problem = (code: string, extra: Record<string, unknown> = {}) => ({ type: 'about:blank', title: 'Title from the API', status: 400, code, ...extra });

describe('problem messages', () => {
  describe('when the API answers a known code', () => {
    it('shows words a person understands', () => {
      expect(problemMessage(problem('invalid_credentials'))).toBe('Wrong e-mail or password.');
      expect(problemMessage(problem('workspace_not_found'))).toBe('This workspace does not exist, or you are not one of its members.');
      expect(problemMessage(problem('service_unavailable'))).toMatch(/unavailable/);
    });
  });

  describe('when the input was invalid', () => {
    it('names each field', () => {
      const message = problemMessage(problem('invalid_input', { errors: [{ field: '/body/name', message: 'must NOT have fewer than 1 characters' }] }));
      expect(message).toBe('Please check: name must NOT have fewer than 1 characters.');
    });
  });

  describe('when the code has no words of its own', () => {
    it("shows the API's detail, else its title", () => {
      expect(problemMessage(problem('conflict', { detail: 'A workspace with this name was archived.' }))).toBe('A workspace with this name was archived.');
      expect(problemMessage(problem('conflict'))).toBe('Title from the API');
    });
  });

  describe('when the network failed', () => {
    it('says Hexa cannot be reached', () => {
      expect(problemMessage(new TypeError('Failed to fetch'))).toMatch(/cannot be reached/);
    });
  });
});
