// One DflockdTestServer with an HTTP listener per spec file, and a small fetch
// wrapper: every call goes to 127.0.0.1 and comes back with its status, headers and body.
import { DflockdTestServer, type DflockdTestServerOptions } from '../../../../lib/testing/server/test-server';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  readonly json: any;
}

export interface CallOptions {
  /** A value is sent as JSON; a string as is. */
  readonly body?: unknown;
  readonly session?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export interface HttpFixture {
  readonly server: DflockdTestServer;
  readonly url: string;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Opens a session and returns its id. */
  session(): Promise<string>;
}

export async function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.session !== undefined) headers['X-Dflockd-Session'] = options.session;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body, signal: options.signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Starts one server (TCP and HTTP on free ports) for the spec file; stopped after all its tests. */
export function useHttpServer(options: DflockdTestServerOptions = {}): HttpFixture {
  let server: DflockdTestServer | undefined;
  let url = '';
  beforeAll(async () => {
    server = new DflockdTestServer({ port: 0, httpPort: 0, ...options });
    await server.start();
    url = server.httpUrl!;
  });
  afterAll(() => server?.stop());
  const fixture: HttpFixture = {
    get server() {
      return server!;
    },
    get url() {
      return url;
    },
    call: (method, path, o) => call(url, method, path, o),
    async session() {
      const r = await call(url, 'POST', '/v1/sessions');
      expect(r.status).toBe(200);
      return r.json.session_id as string;
    },
  };
  return fixture;
}
