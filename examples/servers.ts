// Where the examples connect: DFLOCKD_SERVERS ("host:port,host:port") or the dflockd default.
export const servers: string[] = (process.env['DFLOCKD_SERVERS'] ?? '127.0.0.1:6388').split(',').map((s) => s.trim());
