import type { FastifyRequest } from 'fastify';
import { requireUser, type OperationHandlers } from '@hexa/kit';
import type { ConfigurationAnswer, ConfigurationService } from './configuration-service.js';

type ConfigurationHandlers = Pick<OperationHandlers<'workspaces'>, 'getConfiguration' | 'replaceConfiguration' | 'setConfigurationProperty' | 'deleteConfigurationProperty'>;

function ifMatchOf(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match'];
  return Array.isArray(header) ? header.join(', ') : header;
}

const answer = ({ properties, etag }: ConfigurationAnswer) => ({ status: 200 as const, body: { properties }, headers: { etag } });

export function configurationHandlers(configuration: ConfigurationService): ConfigurationHandlers {
  return {
    getConfiguration: async ({ params }) => answer(await configuration.get(params.slug)),
    replaceConfiguration: async ({ caller, params, body, request }) => answer(await configuration.replace(requireUser(caller), params.slug, body.properties, ifMatchOf(request))),
    setConfigurationProperty: async ({ caller, params, body, request }) => answer(await configuration.set(requireUser(caller), params.slug, params.key, body.value, ifMatchOf(request))),
    deleteConfigurationProperty: async ({ caller, params, request }) => answer(await configuration.remove(requireUser(caller), params.slug, params.key, ifMatchOf(request))),
  };
}
