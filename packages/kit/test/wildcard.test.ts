import { fillPath, getOperation, loadDocument, contractProblems } from '@hexa/contract';
import { wildcardParams } from '../src/http.js';

describe('when a path parameter spans segments (x-wildcard)', () => {
  it('is routed as Fastify\'s * and named in the operation; the upload takes its body raw', () => {
    const upload = getOperation('uploadWorkspaceFile');
    expect(upload).toMatchObject({ routePath: '/workspaces/:slug/files/*', wildcard: 'path', rawBody: true });
    expect(getOperation('moveWorkspaceFile')).toMatchObject({ routePath: '/workspaces/:slug/files/move', rawBody: false });
    expect(getOperation('moveWorkspaceFile').wildcard).toBeUndefined();
  });

  it('is renamed from * before validation, and filled with each segment encoded (never a new segment)', () => {
    expect(wildcardParams({ slug: 'w', '*': 'a/b c.csv' }, 'path')).toEqual({ slug: 'w', path: 'a/b c.csv' });
    expect(wildcardParams({ slug: 'w' }, 'path')).toEqual({ slug: 'w' });
    expect(fillPath('/workspaces/{slug}/files/{path}', { slug: 'a/b', path: 'x y/%2e%2e/z?.csv' }, 'path')).toBe('/workspaces/a%2Fb/files/x%20y/%252e%252e/z%3F.csv');
  });

  it('must end the path: the contract check says so', () => {
    const document = loadDocument() as { paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    const misplaced = structuredClone(document);
    misplaced.paths['/workspaces/{slug}/files/{path}/versions'] = { get: { ...structuredClone(misplaced.paths['/workspaces/{slug}/files/{path}']!.get!), operationId: 'listFileVersions' } as never };
    expect(contractProblems(misplaced as never).join('\n')).toMatch(/listFileVersions .*wildcard path parameter \(x-wildcard\) must be the last segment/);
    expect(contractProblems(document as never)).toEqual([]);
  });
});
