import autocannon from 'autocannon';
import type { Platform } from '../../deploy/local/test/platform.js';
import { load, type Figure } from '../load.js';
import { ratio, type Section } from '../report.js';
import type { Organization } from '../seed.js';

const connections = 200;
const consecutiveRuns = 4;
/** p99 bound of every run. */
const p99TargetMs = 500;
/** "No slower" allows this much run-to-run noise. */
const noise = 0.1;

/**
 * 200 connections for `loadDuration` seconds, four reads to one create
 * (owner's list, a workspace, a member of 5,000's list, one of their
 * workspaces; the owner creates a workspace, which the platform then
 * provisions as always), four runs in a row against the organization of
 * 50,000: the fourth must be no slower than the first. The read path alone
 * before them and the create path alone after them tell which one costs.
 */
export async function sustainedLoad(platform: Platform, settings: { loadDuration: number }, organization: Organization): Promise<Section> {
  const member = organization.members.get(5000)!;
  const every = Math.floor(organization.size / 5000);
  const owner = { authorization: `Bearer ${organization.owner.token}` };
  const asMember = { authorization: `Bearer ${member.token}` };
  const anyWorkspace = () => `bench-${1 + Math.floor(Math.random() * organization.size)}`;
  const membersWorkspace = () => `bench-${every * (1 + Math.floor(Math.random() * 5000))}`;
  let created = 0;
  const reads: autocannon.Request[] = [
    { method: 'GET', path: '/api/workspaces?perPage=20', headers: owner },
    { method: 'GET', path: '/api/workspaces/bench-1', headers: owner, setupRequest: (request) => ({ ...request, path: `/api/workspaces/${anyWorkspace()}` }) },
    { method: 'GET', path: '/api/workspaces?perPage=20', headers: asMember },
    { method: 'GET', path: '/api/workspaces/bench-10', headers: asMember, setupRequest: (request) => ({ ...request, path: `/api/workspaces/${membersWorkspace()}` }) },
  ];
  const create = (label: string): autocannon.Request => ({
    method: 'POST',
    path: '/api/workspaces',
    headers: { ...owner, 'content-type': 'application/json' },
    setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `Load ${label} ${(created += 1)}` }) }),
  });
  const options = { url: platform.url, connections, duration: settings.loadDuration, timeout: 10 };
  // The read path alone first (no provisioning yet), then the mix four times; the create path alone last,
  // as its provisioning backlog would weigh on whatever followed it.
  const readsOnly = await load('reads only', { ...options, requests: reads });
  const figures: Figure[] = [];
  for (let run = 1; run <= consecutiveRuns; run += 1) figures.push(await load(`run ${run}`, { ...options, requests: [...reads, create(String(run))] }));
  const createdByMix = created;
  const createsOnly = await load('creates only', { ...options, requests: [create('c')] });
  const [first, fourth] = [figures[0]!, figures[consecutiveRuns - 1]!];
  const ms = (value: number) => `${Math.round(value)} ms`;
  return {
    title: 'Sustained load',
    method: `${connections} connections for ${settings.loadDuration} s, four reads to one create (the owner's list, a workspace, the list of a member of 5,000, one of their workspaces; the owner creates a workspace, provisioned in the background as always), ${consecutiveRuns} runs in a row against the organization of ${organization.size.toLocaleString('en')}; before them the four reads alone, after them the create alone, for the same time (the targets apply to the four runs of the mix). Errors count connection errors and time-outs (10 s); non-2xx every other answer.`,
    figures: [readsOnly, ...figures, createsOnly],
    ratios: [
      ...figures.map((figure) => ratio(`${figure.subject}: p99`, figure.p99, { atMost: p99TargetMs }, ms)),
      ratio('errors and non-2xx answers, all runs', figures.reduce((sum, figure) => sum + figure.errors + figure.non2xx, 0), { atMost: 0 }, String),
      ratio('run 4 ÷ run 1 (throughput)', fourth.requestsPerSecond / first.requestsPerSecond, { atLeast: 1 - noise }),
      ratio('run 4 ÷ run 1 (p99)', fourth.p99 / first.p99, { atMost: 1 + noise }, (value) => `${Math.round(value * 100) / 100}×`),
    ],
    notes: [
      `${createdByMix.toLocaleString('en')} workspaces were created during the four runs of the mix, ${(created - createdByMix).toLocaleString('en')} by the creates alone.`,
      ...[readsOnly, ...figures, createsOnly]
        .filter((figure) => figure.failures && figure.failures.size > 0)
        .map((figure) => `${figure.subject}: answers outside 2xx: ${[...figure.failures!].map(([what, count]) => `${count} × ${what}`).join(', ')}.`),
    ],
  };
}
