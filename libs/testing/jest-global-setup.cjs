// For a single project's tests (`npx nx test events`): start one embedded server unless
// `npm test` or the caller already provides TEST_DATABASE_URL.
const { startTestServer } = require('./embedded-server.cjs');

module.exports = async function globalSetup() {
  if (process.env.TEST_DATABASE_URL) return;
  const server = await startTestServer();
  process.env.TEST_DATABASE_URL = server.url;
  globalThis.__DDNN_TEST_PG__ = server;
};
