/**
 * Request bodies of the HTTP API: read with a 1 MiB cap, parsed as exactly one
 * JSON object whose fields are all known (PROTOCOL.md §3.3–§3.4).
 *
 * @module
 */

import type * as http from 'node:http';
import { HttpFailure, badRequest } from './errors.js';

/** dflockd's body cap. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the whole body. Beyond `limit` bytes it stops reading and fails with
 * `400 bad_request` (the connection is then closed: the rest is never read).
 */
export function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A client that left before its call's turn came never sends the rest.
    if (req.destroyed) {
      reject(badRequest('the request was aborted'));
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.readableEnded) reject(badRequest('the request was aborted'));
    });
  });
}

// The rest of the body is never read, so the connection cannot carry another request.
function tooLarge(limit: number): HttpFailure {
  return new HttpFailure(400, 'bad_request', `request body exceeds ${limit} bytes`, { Connection: 'close' });
}

/**
 * Parses a body as one JSON object with only the `allowed` fields. An empty
 * body is `{}`; anything after the first value, a non-object, invalid UTF-8
 * or an unknown field is `400 bad_request`.
 */
export function parseObject(body: Buffer, allowed: readonly string[]): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw badRequest('request body is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    // JSON.parse refuses a second value after the first, as the strict decoder does.
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`invalid JSON body: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('request body must be a JSON object');
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) throw badRequest(`unknown field ${JSON.stringify(field)}`);
  }
  return value as Record<string, unknown>;
}
