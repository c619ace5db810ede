import { setFlagsFromString } from 'node:v8';

/**
 * Start-up allocates some 30 MB of long-lived module code and metadata within a second. V8 grows
 * its young generation while most of what it scavenges survives, so by the time the app listens
 * the young generation is at its maximum (two 16 MB semi-spaces), and it stays resident until
 * V8's memory reducer shrinks it some 20 s into idleness: a quarter of the idle process's RSS
 * (README, Performance). Holding that growth back until the app listens keeps it out of the
 * idle process; under load it grows as before, since the hold is lifted.
 */
export const HOLD_YOUNG_GENERATION = '--semi-space-growth-factor=1';
/** V8's default, which `HOLD_YOUNG_GENERATION` suspends. */
export const RELEASE_YOUNG_GENERATION = '--semi-space-growth-factor=2';

/** False when the operator sizes the young generation themselves (NODE_OPTIONS or node's own flags): theirs stands. */
export function shouldHoldYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  return ![...execArgv, nodeOptions].some((flag) => /semi[-_]space/.test(flag));
}

let held = false;

/** Called first thing at start-up, before the app's modules load. */
export function holdYoungGeneration(): void {
  if (!shouldHoldYoungGeneration()) return;
  setFlagsFromString(HOLD_YOUNG_GENERATION);
  held = true;
}

/** Called once the app listens: from here V8 sizes the young generation by the load, as usual. */
export function releaseYoungGeneration(): void {
  if (!held) return;
  setFlagsFromString(RELEASE_YOUNG_GENERATION);
  held = false;
}
