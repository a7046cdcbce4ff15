/**
 * Runs an integration spec file again with every harness session speaking over the daemon's
 * WebSocket (url + token) instead of its Unix socket: same tests, other transport.
 */
export function overWebSocket(title: string, load: () => void): void {
  describe(`${title}, over the WebSocket transport`, () => {
    const previous = process.env.RUNTIMED_TEST_TRANSPORT;
    beforeAll(() => {
      process.env.RUNTIMED_TEST_TRANSPORT = "websocket";
    });
    afterAll(() => {
      if (previous === undefined) delete process.env.RUNTIMED_TEST_TRANSPORT;
      else process.env.RUNTIMED_TEST_TRANSPORT = previous;
    });
    load();
  });
}
