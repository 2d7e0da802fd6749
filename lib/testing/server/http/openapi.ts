/**
 * `GET /v1/openapi.json`: an OpenAPI 3.1 description of the endpoints this
 * server answers, written for it (shapes as in PROTOCOL.md §3.1).
 *
 * @module
 */

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json): Json => ({ 'application/json': { schema } });
const error = (description: string): Json => ({ description, content: jsonContent(ref('Error')) });
const seconds = (description: string, minimum: number): Json => ({ type: 'integer', minimum, maximum: 9223372036, description });

const COMMON_ERRORS = {
  400: error('Malformed request: bad JSON, an unknown field, a bad key, token or number, or no session header'),
  401: error('Missing or wrong bearer token'),
  410: error('Unknown or expired session'),
  503: error('Server limit reached (max_locks, max_waiters) or draining'),
};

const SESSION_HEADER: Json = { $ref: '#/components/parameters/Session' };
const KEY: Json = { $ref: '#/components/parameters/Key' };

function operation(operationId: string, summary: string, request: Json | undefined, ok: Json, extra: Record<string, Json> = {}): Json {
  return {
    operationId,
    summary,
    parameters: [KEY, SESSION_HEADER],
    ...(request === undefined ? {} : { requestBody: { required: false, content: jsonContent(request) } }),
    responses: { ...ok as object, ...COMMON_ERRORS, ...extra } as Json,
  };
}

function object(properties: Record<string, Json>, required: readonly string[] = []): Json {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

const lease = seconds('Lease length; the server default when absent', 1);
const limit: Json = { type: 'integer', minimum: 1, description: 'Semaphore size; every caller of a key must name the same one' };
const grantOk = { 200: { description: 'Granted, or timed out', content: jsonContent(ref('AcquireResult')) } };
const mismatch = { 409: error('limit_mismatch: the key exists with another limit') };

function lockPaths(kind: 'locks' | 'semaphores'): Record<string, Json> {
  const sem = kind === 'semaphores';
  const what = sem ? 'a semaphore slot' : 'a lock';
  const acquireBody = object({
    acquire_timeout_s: seconds('Seconds to wait; 0 tries once (a missing value counts as 0)', 0),
    ...(sem ? { limit } : {}),
    lease_ttl_s: lease,
  }, sem ? ['acquire_timeout_s', 'limit'] : ['acquire_timeout_s']);
  const enqueueBody = object({ ...(sem ? { limit } : {}), lease_ttl_s: lease }, sem ? ['limit'] : []);
  const base = `/v1/${kind}/{key}`;
  const id = (verb: string): string => `${verb}${sem ? 'Semaphore' : 'Lock'}`;
  return {
    [base]: { post: operation(id('acquire'), `Acquire ${what}, waiting up to acquire_timeout_s (a long poll)`, acquireBody, grantOk, sem ? mismatch : {}) },
    [`${base}/release`]: {
      post: operation(id('release'), `Release ${what} by token`, object({ token: ref('Token') }, ['token']), { 204: { description: 'Released' } }, {
        404: error('not_held: no such token held on this key'),
      }),
    },
    [`${base}/renew`]: {
      post: operation(id('renew'), `Renew ${what} by token`, object({ token: ref('Token'), lease_ttl_s: lease }, ['token']), {
        200: { description: 'The new lease length', content: jsonContent(object({ remaining_s: { type: 'integer' } }, ['remaining_s'])) },
      }, { 404: error('not_held: no such token held, or its lease expired') }),
    },
    [`${base}/enqueue`]: {
      post: operation(id('enqueue'), `Join the queue for ${what} (two-phase, step 1)`, enqueueBody, {
        200: { description: 'Acquired at once, or queued', content: jsonContent(ref('EnqueueResult')) },
      }, { 409: error('already_enqueued or limit_mismatch') }),
    },
    [`${base}/wait`]: {
      post: operation(id('wait'), `Wait for the place taken by enqueue (two-phase, step 2)`, object({ timeout_s: seconds('Seconds to wait; 0 checks once', 0) }, ['timeout_s']), grantOk, {
        409: error('not_enqueued or lease_expired'),
      }),
    },
  };
}

const status = (description: string): Json => ({ description, content: jsonContent(object({ status: { type: 'string' } }, ['status'])) });

/** The document, built once. */
export const OPENAPI_DOCUMENT: Json = {
  openapi: '3.1.0',
  info: {
    title: 'dflockd HTTP API (dflockd-rx test server)',
    version: '2.1.1',
    description: 'Locks and semaphores over HTTP, sharing one lock table with the TCP protocol. Lock calls need a session (X-Dflockd-Session); calls of one session are served one at a time.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/health': { get: { operationId: 'health', summary: 'Liveness', security: [], responses: { 200: status('ok') } } },
    '/ready': { get: { operationId: 'ready', summary: 'Readiness', security: [], responses: { 200: status('ok'), 503: status('draining') } } },
    '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus gauges', responses: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } }, 401: COMMON_ERRORS[401] } } },
    '/v1/openapi.json': { get: { operationId: 'openapi', summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1', content: jsonContent({ type: 'object' }) } } } },
    '/v1/stats': { get: { operationId: 'stats', summary: 'The TCP stats document', responses: { 200: { description: 'Stats', content: jsonContent({ type: 'object' }) }, 401: COMMON_ERRORS[401] } } },
    '/v1/sessions': {
      post: {
        operationId: 'createSession', summary: 'Open a session (the body is ignored)',
        responses: {
          200: { description: 'The new session', content: jsonContent(object({ session_id: { type: 'string', pattern: '^[0-9a-f]{32}$' }, idle_timeout_s: { type: 'number' } }, ['session_id', 'idle_timeout_s'])) },
          401: COMMON_ERRORS[401],
          503: COMMON_ERRORS[503],
        },
      },
    },
    '/v1/sessions/{id}/ping': {
      post: { operationId: 'pingSession', summary: 'Keep a session alive (never waits for its calls)', parameters: [{ $ref: '#/components/parameters/SessionId' }], responses: { 204: { description: 'Alive' }, 401: COMMON_ERRORS[401], 410: COMMON_ERRORS[410] } },
    },
    '/v1/sessions/{id}': {
      delete: {
        operationId: 'deleteSession', summary: 'End a session: wakes its blocked call, drops its waiters, releases its holds (auto-release)',
        parameters: [{ $ref: '#/components/parameters/SessionId' }],
        responses: { 204: { description: 'Ended' }, 401: COMMON_ERRORS[401], 410: COMMON_ERRORS[410] },
      },
    },
    ...lockPaths('locks'),
    ...lockPaths('semaphores'),
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    parameters: {
      Key: { name: 'key', in: 'path', required: true, description: '1-256 bytes, no whitespace', schema: { type: 'string', minLength: 1 } },
      Session: { name: 'X-Dflockd-Session', in: 'header', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
      SessionId: { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
    },
    schemas: {
      Token: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      Error: object({ error: { type: 'string' }, detail: { type: 'string' } }, ['error']),
      AcquireResult: {
        oneOf: [
          object({ status: { const: 'ok' }, token: ref('Token'), lease_ttl_s: { type: 'integer' } }, ['status', 'token', 'lease_ttl_s']),
          object({ status: { const: 'timeout' } }, ['status']),
        ],
      },
      EnqueueResult: {
        oneOf: [
          object({ status: { const: 'acquired' }, token: ref('Token'), lease_ttl_s: { type: 'integer' } }, ['status', 'token', 'lease_ttl_s']),
          object({ status: { const: 'queued' } }, ['status']),
        ],
      },
    },
  },
};
