/**
 * Jest's per-test and per-hook timeouts, stretched by how busy the machine is when the test is
 * declared (test/helpers/fair-clock.cjs loadStretch: the 1-minute load average per core, ≥ 1).
 * A test's timeout is a guard against a hang, not a speed limit: on an idle machine they stay
 * as written; beside a second copy of the suite they grow with the load instead of failing
 * healthy tests. The processes a test starts have their own limits on the fair-share clock
 * (test/helpers/cli.ts), which is what catches a hung run.
 */
const { loadStretch } = require('./helpers/fair-clock.cjs');

const DEFAULT_MS = 60_000; // jest.config.js testTimeout
const scaled = (timeout) => Math.round((timeout ?? DEFAULT_MS) * loadStretch());

function withScaledTimeout(declare) {
  const patched = (title, body, timeout) => declare(title, body, scaled(timeout));
  return Object.assign(patched, declare, {
    only: (title, body, timeout) => declare.only(title, body, scaled(timeout)),
    each: (...table) => {
      const declareEach = declare.each(...table);
      return (title, body, timeout) => declareEach(title, body, scaled(timeout));
    },
  });
}

global.it = withScaledTimeout(global.it);
global.test = withScaledTimeout(global.test);
for (const hook of ['beforeAll', 'afterAll', 'beforeEach', 'afterEach']) {
  const declare = global[hook];
  global[hook] = (body, timeout) => declare(body, scaled(timeout));
}
