// Setup file of the jest project that runs the client suites against the test server's
// dflockd v1.10.0 mode (the default project runs them against 2.1): see jest.config.ts.
process.env['DFLOCKD_TEST_COMPAT'] = '1.10';
