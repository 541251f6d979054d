import { isExternalLink, safeNext } from '../src/navigation';

describe('where sign-in leads', () => {
  describe('when next is a path of the console', () => {
    it('goes there', () => {
      expect(safeNext({ next: '/w/malaria-bf/settings' })).toBe('/w/malaria-bf/settings');
    });
  });

  describe('when next points elsewhere', () => {
    it('goes to the start page instead', () => {
      for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', '']) expect(safeNext({ next })).toBe('/');
      expect(safeNext({})).toBe('/');
      expect(safeNext({ next: ['/a', '/b'] })).toBe('/');
    });
  });
});

describe('links in a home page', () => {
  it('stay in the console only when they are a path of it', () => {
    for (const href of ['/w/malaria/database', '/workspaces/malaria/members', 'relative/page', '#top']) expect(isExternalLink(href)).toBe(false);
    for (const href of ['https://example.org', 'mailto:a@example.org', '//evil.example', '/\\evil.example', '\\\\evil.example', ' http://x']) expect(isExternalLink(href)).toBe(true);
  });
});
