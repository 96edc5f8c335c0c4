module.exports = async function globalTeardown() {
  const server = globalThis.__DDNN_TEST_PG__;
  if (server) await server.stop();
};
