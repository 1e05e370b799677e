/**
 * The one error handler: AppError → its status and `{Error, Message}`; Fastify's own request errors
 * (validation, JSON, body size, media type) → a 400 naming the field; anything else → a 500 carrying
 * only the request id. No stack trace or driver message ever reaches a client.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../errors.js';
import { SECURITY_HEADERS } from './request-context.js';

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
  parentSchema?: { description?: string };
}

function describeValidation(errors: AjvError[], context: string | undefined): string {
  const e = errors[0];
  if (!e) return 'request: invalid';
  const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const where =
    context === 'body' ? 'body' : context === 'querystring' ? 'query parameter' : (context ?? 'request');
  if (e.keyword === 'additionalProperties') {
    const name = String(e.params.additionalProperty ?? '');
    const field = path ? `${path}.${name}` : name;
    return `${field}: unknown ${where} field`;
  }
  if (e.keyword === 'required') {
    const name = String(e.params.missingProperty ?? '');
    const field = path ? `${path}.${name}` : name;
    return `${field}: required ${where} field`;
  }
  const field = path || where;
  const hint = e.parentSchema?.description ? ` (${e.parentSchema.description})` : '';
  return `${field}: ${e.message ?? 'invalid'}${hint}`;
}

const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'body: malformed JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    message: 'body: empty, but Content-Type is application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'body_too_large', message: 'body: larger than the 64 KiB limit' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'invalid_request',
    message: 'Content-Length: does not match the body',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'Content-Type: send application/json',
  },
};

declare module 'fastify' {
  interface FastifyRequest {
    /** The `Error` code the request was answered with (null until an error answer), e.g. for metrics. */
    errorCode: string | null;
  }
}

export function sendError(reply: FastifyReply, err: AppError): FastifyReply {
  reply.request.errorCode = err.code;
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply.status(err.status).send({ Error: err.code, Message: err.message });
}

/**
 * Errors the router finds before any route or hook runs (Fastify's `frameworkErrors`): a malformed
 * URL, an over-long path parameter. Same contract as every other answer, security headers included;
 * the path is not echoed.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
  const err =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new AppError('uri_too_long', 'path: a path segment is longer than 100 characters')
      : new AppError('invalid_request', 'path: not a valid URL');
  void sendError(reply, err);
}

/**
 * Errors Node's HTTP parser finds before Fastify sees a request (the server's `clientError`): headers
 * too large, a request that is not HTTP, a timeout. Answered on the raw socket with the same `{Error,
 * Message}` body and security headers, then the connection is closed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message]: [number, ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'headers: larger than the server accepts (16 KiB in all)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'request: not received in time']
        : [400, 'invalid_request', 'request: not a valid HTTP request'];
  const body = JSON.stringify({ Error: code, Message: message });
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  // Only on a connection with nothing written yet: never into the middle of a response.
  if (!socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${head}\r\n\r\n${body}`);
}

export function installErrorHandler(app: FastifyInstance, options: { webIndex: boolean }): void {
  app.decorateRequest('errorCode', null);
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isAppError(error)) {
      if (error.status >= 500 || error.driverCode) {
        request.log.warn({ code: error.code, driverCode: error.driverCode }, error.message);
      }
      return sendError(reply, error);
    }
    if (error.validation) {
      const errors = error.validation as AjvError[];
      const field = errors[0]?.instancePath.replace(/^\//, '') ?? '';
      const specific = `invalid_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
      const code: ErrorCode =
        error.validationContext === 'querystring' && specific in ERROR_CODES
          ? (specific as ErrorCode)
          : 'invalid_request';
      return sendError(reply, new AppError(code, describeValidation(errors, error.validationContext)));
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return sendError(reply, new AppError(known.code, known.message));
    if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendError(reply, new AppError('invalid_json', 'body: malformed JSON'));
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's remaining client errors (prototype poisoning, bad URL, ...): a 400 without internals.
      return sendError(reply, new AppError('invalid_request', 'request: malformed'));
    }
    // Name, code and the stack's first frames; never a driver's detail, which can quote row values.
    const e = error as FastifyError & { constraint?: unknown; table?: unknown };
    request.log.error(
      {
        err: {
          type: e.name,
          code: e.code,
          constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
          table: typeof e.table === 'string' ? e.table : undefined,
          stack: e.stack?.split('\n').slice(1, 6).join('\n'),
        },
      },
      'unhandled error',
    );
    request.errorCode = 'internal_error';
    return reply.status(500).send({
      Error: 'internal_error',
      Message: `Internal error; quote request id ${request.id} to the operator.`,
    });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // The web UI is a single page: any other GET that asks for HTML gets its index.
    if (
      options.webIndex &&
      request.method === 'GET' &&
      !path.startsWith('/api/') &&
      (request.headers.accept ?? '').includes('text/html')
    ) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    return sendError(reply, new AppError('not_found', `no route ${request.method} ${path.slice(0, 200)}`));
  });
}
