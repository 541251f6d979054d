import { isSentenceForPeople, problemMessage } from '../../src/api/problem';

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

  describe('when the API says what exactly is missing or refused', () => {
    it('shows its sentence rather than the generic words', () => {
      expect(problemMessage(problem('not_found', { status: 404, detail: 'No such run in this workspace.' }))).toBe('No such run in this workspace.');
      expect(problemMessage(problem('forbidden', { status: 403, detail: 'Only Editors, Admins and whoever launched a run may cancel it.' }))).toBe('Only Editors, Admins and whoever launched a run may cancel it.');
    });

    it('keeps the generic words when the detail is absent or written for API clients', () => {
      expect(problemMessage(problem('not_found', { status: 404 }))).toBe('This no longer exists.');
      expect(problemMessage(problem('forbidden', { status: 403, detail: 'Your role in this workspace (VIEWER) does not grant members:manage.' }))).toBe('You do not have permission to do this.');
      expect(problemMessage(problem('file_exists', { status: 409, detail: 'Something is already at reports/a.csv; send overwrite: true to replace a file.' }))).toBe('Something of that name is already there. Choose another name.');
    });

    it('never lets a detail tell an outsider whether a workspace exists', () => {
      expect(problemMessage(problem('workspace_not_found', { status: 404, detail: 'The workspace was archived.' }))).toBe('This workspace does not exist, or you are not one of its members.');
    });

    it('reads a detail as a sentence for people only when it is one plain sentence', () => {
      expect(isSentenceForPeople('No such user.')).toBe(true);
      for (const detail of [undefined, '', 'no capital.', 'No full stop', 'Use /auth/login.', 'Needs {"overwrite": true}.', 'Bad token_id.', `A${' very'.repeat(50)} long sentence.`]) {
        expect(isSentenceForPeople(detail)).toBe(false);
      }
    });
  });

  describe('when the network failed', () => {
    it('says Hexa cannot be reached', () => {
      expect(problemMessage(new TypeError('Failed to fetch'))).toMatch(/cannot be reached/);
    });
  });
});
