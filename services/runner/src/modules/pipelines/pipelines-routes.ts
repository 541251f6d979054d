import type { Schemas } from '@hexa/contract';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { PipelinesService } from './pipelines-service.js';

export function pipelinesHandlers(pipelines: PipelinesService): Pick<OperationHandlers<'runner'>, 'listPipelines' | 'createPipeline' | 'getPipeline' | 'updatePipeline' | 'deletePipeline'> {
  return {
    listPipelines: async ({ params }) => ({ status: 200, body: { items: await pipelines.list(params.slug) } }),
    createPipeline: async ({ caller, params, body, idempotency }) => {
      const answer = (pipeline: Schemas['Pipeline']) => ({ status: 201 as const, body: pipeline, headers: { location: `/api/workspaces/${params.slug}/pipelines/${pipeline.code}` } });
      const pipeline = await pipelines.create(requireUser(caller), params.slug, body, idempotency && ((trx, created) => idempotency.answerIn(trx, answer(created))));
      return answer(pipeline);
    },
    getPipeline: async ({ params }) => ({ status: 200, body: await pipelines.get(params.slug, params.code) }),
    updatePipeline: async ({ caller, params, body }) => ({ status: 200, body: await pipelines.update(requireUser(caller), params.slug, params.code, body) }),
    deletePipeline: async ({ caller, params }) => {
      await pipelines.remove(requireUser(caller), params.slug, params.code);
      return { status: 204, body: undefined };
    },
  };
}
