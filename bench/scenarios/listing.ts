import { createDatabase } from '@hexa/kit';
import type { WorkspacesDatabase } from '../../services/workspaces/src/database.js';
import type { Platform } from '../../deploy/local/test/platform.js';
import { decodeListCursor } from '../../services/workspaces/src/modules/workspaces/list-cursor-fns.js';
import { pageWorkspaces } from '../../services/workspaces/src/modules/workspaces/workspaces-repository.js';
import { load, median, type Figure } from '../load.js';
import { ratio, type Section } from '../report.js';
import type { Organization } from '../seed.js';
import { measureQuery } from '../sql.js';

/** Latency, not saturation: a few clients paging at once. */
const connections = 10;
const perPage = 20;
/** The deepest page within the 10,000-item window the API pages (docs/decisions/0008). */
const deepPage = 10_000 / perPage;

/** The cursor to `page` of the owner's list, reached as a client reaches it: following `nextCursor` from the first page. */
async function cursorTo(platform: Platform, token: string, page: number): Promise<string> {
  let cursor: string | null = null;
  for (let reached = 1; reached < page; reached += 1) {
    const response = await fetch(`${platform.url}/api/workspaces?perPage=${perPage}${cursor ? `&after=${cursor}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`page ${reached}: ${response.status} ${await response.text()}`);
    cursor = ((await response.json()) as { nextCursor: string | null }).nextCursor;
    if (!cursor) throw new Error(`page ${reached} has no next page`);
  }
  return cursor!;
}

/**
 * A member's list (first page) for a member of 5,000 and of 50 workspaces of
 * an organization of 50,000, and the organization owner's first and deepest
 * page (reached by cursor), through the gateway; the floor is the service's
 * own listing function (the page and its count, the SQL it runs) called
 * straight on the database at the same concurrency.
 */
export async function listing(platform: Platform, settings: { duration: number; runs: number }, organization: Organization): Promise<Section> {
  const many = organization.members.get(5000)!;
  const few = organization.members.get(50)!;
  const db = createDatabase<WorkspacesDatabase>({ url: platform.databaseUrl, schema: 'workspaces', max: connections });
  const list = (token: string, position = '') => ({ url: `${platform.url}/api/workspaces?perPage=${perPage}${position}`, headers: { authorization: `Bearer ${token}` }, connections, duration: settings.duration });
  const deepCursor = await cursorTo(platform, organization.owner.token, deepPage);
  const deepPosition = decodeListCursor(deepCursor)!;
  const subjects: Record<string, () => Promise<Figure>> = {
    many: () => load('member of 5,000: page 1 through the gateway', list(many.token)),
    sql: () =>
      measureQuery('member of 5,000: the service\'s SQL (page and count), straight on PostgreSQL', () => pageWorkspaces(db, { userId: many.id, everywhere: false, archived: false, page: 1, perPage }), {
        connections,
        durationSeconds: settings.duration,
      }),
    few: () => load('member of 50: page 1 through the gateway', list(few.token)),
    first: () => load('organization owner: page 1 through the gateway', list(organization.owner.token)),
    deep: () => load(`organization owner: page ${deepPage} by cursor through the gateway`, list(organization.owner.token, `&after=${deepCursor}`)),
    deepSql: () =>
      measureQuery(`organization owner: page ${deepPage} by cursor, the service's SQL straight on PostgreSQL`, () => pageWorkspaces(db, { userId: organization.owner.id, everywhere: true, archived: false, after: deepPosition, page: deepPage, perPage }), {
        connections,
        durationSeconds: settings.duration,
      }),
  };
  const runs = Object.fromEntries(Object.keys(subjects).map((name) => [name, [] as Figure[]]));
  try {
    for (let run = 0; run < settings.runs; run += 1) for (const [name, measure] of Object.entries(subjects)) runs[name]!.push(await measure());
  } finally {
    await db.destroy();
  }
  const figure = (name: string) => median(runs[name]!);
  const [manyFigure, sqlFigure, fewFigure, firstFigure, deepFigure, deepSqlFigure] = ['many', 'sql', 'few', 'first', 'deep', 'deepSql'].map(figure) as Figure[];
  const times = (value: number) => `${Math.round(value * 100) / 100}×`;
  return {
    title: 'Listing at scale',
    method: `\`GET /api/workspaces?perPage=${perPage}\` at ${connections} connections in an organization of ${organization.size.toLocaleString('en')} workspaces (seeded with generate_series), for a member of 5,000 and a member of 50, and the organization owner's first page and deepest page within the 10,000-item window (reached by following \`nextCursor\`, requested with \`after\`); against the service's own listing function run straight on PostgreSQL (the floor).`,
    figures: [manyFigure!, sqlFigure!, fewFigure!, firstFigure!, deepFigure!, deepSqlFigure!],
    ratios: [
      ratio('member of 5,000: p95 ÷ its SQL p95', manyFigure!.p95 / sqlFigure!.p95, { atMost: 3 }, times),
      ratio('member of 5,000 ÷ member of 50 (p95)', manyFigure!.p95 / fewFigure!.p95, { atMost: 1.2 }, times),
      ratio(`owner page ${deepPage} ÷ page 1 (p95)`, deepFigure!.p95 / firstFigure!.p95, { atMost: 1.2 }, times),
    ],
  };
}
