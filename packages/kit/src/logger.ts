import type { LoggerOptions } from 'pino';

/** Never log a credential: these paths are replaced by "[redacted]". */
const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hexa-internal"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
];

/** Query parameters that carry a credential (an invitation link's token, say). */
const secretQueryParameter = /([?&](?:token|access_token|refresh_token|refreshToken|password|key|secret)=)[^&#]*/gi;

/**
 * The URL as logs may show it: credentials in the query string are replaced.
 *
 * @example
 * redactUrl('/api/invitations/preview?token=abc') // '/api/invitations/preview?token=[redacted]'
 */
export function redactUrl(url: string): string {
  return url.replace(secretQueryParameter, '$1[redacted]');
}

interface LoggedRequest {
  method: string;
  url: string;
  hostname?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: {
      req: (request: LoggedRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        hostname: request.hostname,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
  };
}
