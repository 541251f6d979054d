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
 * 50,000: the fourth must be no slower than the first.
 */
export async function sustainedLoad(platform: Platform, settings: { loadDuration: number }, organization: Organization): Promise<Section> {
  const member = organization.members.get(5000)!;
  const every = Math.floor(organization.size / 5000);
  const owner = { authorization: `Bearer ${organization.owner.token}` };
  const asMember = { authorization: `Bearer ${member.token}` };
  const anyWorkspace = () => `bench-${1 + Math.floor(Math.random() * organization.size)}`;
  const membersWorkspace = () => `bench-${every * (1 + Math.floor(Math.random() * 5000))}`;
  let created = 0;
  const figures: Figure[] = [];
  for (let run = 1; run <= consecutiveRuns; run += 1) {
    const requests: autocannon.Request[] = [
      { method: 'GET', path: '/api/workspaces?perPage=20', headers: owner },
      { method: 'GET', path: '/api/workspaces/bench-1', headers: owner, setupRequest: (request) => ({ ...request, path: `/api/workspaces/${anyWorkspace()}` }) },
      { method: 'GET', path: '/api/workspaces?perPage=20', headers: asMember },
      { method: 'GET', path: '/api/workspaces/bench-10', headers: asMember, setupRequest: (request) => ({ ...request, path: `/api/workspaces/${membersWorkspace()}` }) },
      {
        method: 'POST',
        path: '/api/workspaces',
        headers: { ...owner, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ name: `Load ${run} ${(created += 1)}` }) }),
      },
    ];
    figures.push(await load(`run ${run}`, { url: platform.url, requests, connections, duration: settings.loadDuration, timeout: 10 }));
  }
  const [first, fourth] = [figures[0]!, figures[consecutiveRuns - 1]!];
  const ms = (value: number) => `${Math.round(value)} ms`;
  return {
    title: 'Sustained load',
    method: `${connections} connections for ${settings.loadDuration} s, four reads to one create (the owner's list, a workspace, the list of a member of 5,000, one of their workspaces; the owner creates a workspace, provisioned in the background as always), ${consecutiveRuns} runs in a row against the organization of ${organization.size.toLocaleString('en')}. Errors count connection errors and time-outs (10 s); non-2xx every other answer.`,
    figures,
    ratios: [
      ...figures.map((figure) => ratio(`${figure.subject}: p99`, figure.p99, { atMost: p99TargetMs }, ms)),
      ratio('errors and non-2xx answers, all runs', figures.reduce((sum, figure) => sum + figure.errors + figure.non2xx, 0), { atMost: 0 }, String),
      ratio('run 4 ÷ run 1 (throughput)', fourth.requestsPerSecond / first.requestsPerSecond, { atLeast: 1 - noise }),
      ratio('run 4 ÷ run 1 (p99)', fourth.p99 / first.p99, { atMost: 1 + noise }, (value) => `${Math.round(value * 100) / 100}×`),
    ],
    notes: [`${created.toLocaleString('en')} workspaces were created during the runs.`],
  };
}
