/**
 * dflockd-rx/testing — an in-process dflockd-compatible server and a fault-injecting proxy,
 * for your own tests. Never imported by the client itself.
 * @packageDocumentation
 */
export { DflockdTestServer } from './server/test-server.js';
export type { DflockdTestServerOptions } from './server/test-server.js';
export { FaultProxy } from './fault-proxy.js';
export type { FaultProxyOptions } from './fault-proxy.js';
