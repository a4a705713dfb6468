/** Typed face of fair-clock.cjs (hang limits counted in a fair share of the CPU; see there). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clock = require('./fair-clock.cjs') as {
  cpuShare(): number;
  loadStretch(): number;
  fairTimeout(ms: number, onFire: () => void): () => void;
  waitFor(ready: () => boolean | Promise<boolean>, what: string, ms: number): Promise<void>;
  CORES: number;
};

export const { cpuShare, loadStretch, fairTimeout, waitFor, CORES } = clock;
