// The page is bundled at build time; the e2e and browser tests serve it, so build it first.
import { execFileSync } from 'node:child_process';

export default function globalSetup() {
  execFileSync(process.execPath, ['scripts/build-page.mjs'], { stdio: 'inherit' });
}
