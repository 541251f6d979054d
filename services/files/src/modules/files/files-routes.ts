import type { Readable } from 'node:stream';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { FilesService } from './files-service.js';

type FileHandlers = Pick<
  OperationHandlers<'files'>,
  'listWorkspaceFiles' | 'downloadWorkspaceFile' | 'uploadWorkspaceFile' | 'deleteWorkspaceFile' | 'createWorkspaceFolder' | 'moveWorkspaceFile'
>;

export function filesHandlers(files: FilesService): FileHandlers {
  return {
    listWorkspaceFiles: async ({ params, query }) => ({ status: 200, body: await files.list(params.slug, query) }),
    downloadWorkspaceFile: async ({ params, request }) => {
      const range = request.headers.range;
      const answer = await files.download(params.slug, params.path, typeof range === 'string' ? range : undefined);
      return { status: answer.status, body: answer.stream, headers: answer.headers };
    },
    uploadWorkspaceFile: async ({ caller, params, request }) => {
      const announced = request.headers['content-length'];
      const length = announced === undefined ? undefined : Number(announced);
      const answer = await files.upload(requireUser(caller), params.slug, params.path, request.body as Readable | undefined, Number.isFinite(length) ? length : undefined);
      return answer.status === 201 ? { status: 201, body: answer.entry } : { status: 200, body: answer.entry };
    },
    deleteWorkspaceFile: async ({ caller, params, query }) => {
      await files.remove(requireUser(caller), params.slug, params.path, query.recursive ?? false);
      return { status: 204, body: undefined };
    },
    createWorkspaceFolder: async ({ caller, params, body, idempotency }) => ({
      status: 201,
      body: await files.makeFolder(requireUser(caller), params.slug, body.path, idempotency && ((trx, folder) => idempotency.answerIn(trx, { status: 201, body: folder }))),
    }),
    moveWorkspaceFile: async ({ caller, params, body }) => ({ status: 200, body: await files.move(requireUser(caller), params.slug, body) }),
  };
}
