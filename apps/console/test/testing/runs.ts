import type { Run } from '../../src/stores/runs';

/** A run as the API answers it right after a launch. */
export const queuedRun = (id: string, code = 'weekly'): Run => ({
  id,
  pipelineCode: code,
  status: 'queued',
  parameters: {},
  image: 'hexa/base-environment:latest',
  imageDigest: null,
  exitCode: null,
  reason: null,
  launchedBy: '00000000-0000-4000-8000-000000000001',
  createdAt: '2026-11-01T00:00:00.000Z',
  startedAt: null,
  finishedAt: null,
  canCancel: true,
});
