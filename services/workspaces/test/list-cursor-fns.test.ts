import { decodeListCursor, encodeListCursor } from '../src/modules/workspaces/list-cursor-fns.js';

describe('when a list hands out a cursor to its next page', () => {
  it('reads back the position and page number it was made from, whatever the script of the name', () => {
    const cursor = { searchName: 'santé 北京 "quoted"', slug: 'sante-bei-jing', page: 7 };
    const text = encodeListCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeListCursor(text)).toEqual(cursor);
  });

  it('refuses text that is not a cursor of a list', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const text of ['not a cursor', encode({ searchName: 'a', slug: 'a', page: 2 }), encode(['a', 'a']), encode(['a', 1, 2]), encode(['a', 'a', 1]), encode(['a', 'a', 2.5])]) {
      expect(decodeListCursor(text)).toBeUndefined();
    }
  });
});
