// `npm run bench:profile`: the built app under 200 concurrent 100-token streams with V8's CPU
// profiler on, then where its CPU went (self time, by package and by function). Start-up is
// in the profile too; the streams run three times so that they dominate it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postPrompt, spawnAndWait, startBuiltApp, stopChild } from './support.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const STREAMS = Number(process.env.STREAMS ?? 200);
const PROMPT = process.env.PROMPT ?? 'tokens=100 delay=20';

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const inModules = url.split('node_modules/')[1];
  if (inModules) return inModules.split('/').slice(0, inModules.startsWith('@') ? 2 : 1).join('/');
  if (url.includes('/dist/')) return `app: ${url.split('/dist/')[1]}`;
  return url.startsWith('node:') ? url : '(other)';
}

function summarize(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    total += micros;
    const pkg = packageOf(url, functionName);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
  });
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => `${(micros / 1000).toFixed(0).padStart(7)} ms ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join('\n');
  console.log(`\nCPU time sampled (idle excluded): ${(total / 1000).toFixed(0)} ms`);
  console.log(`\nBy package:\n${top(byPackage, 25)}`);
  console.log(`\nBy function:\n${top(byFunction, 40)}`);
  console.log('\nNote: time in a system call (writev) includes time the process waited for a core while in it.');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'chat-profile-'));
  const { child: upstream, match } = await spawnAndWait('dist-bench/bench/fake-upstream.js', {}, /fake upstream on (\S+)/);
  try {
    const app = await startBuiltApp(
      { OPENAI_BASE_URL: match[1], OPENAI_MODEL: 'bench', DATABASE_URL: join(work, 'profile.sqlite') },
      ['--cpu-prof', `--cpu-prof-dir=${work}`],
    );
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: STREAMS }, (_, i) => postPrompt(app.url, `profile ${round} ${i} ${PROMPT}`)));
      const failed = results.filter((r) => r.status !== 200 || r.error).length;
      console.log(`round ${round + 1}: ${STREAMS} streams of "${PROMPT}", ${failed} failed`);
    }
    await app.stop();
    const file = readdirSync(work).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the app wrote no CPU profile');
    summarize(JSON.parse(readFileSync(join(work, file), 'utf8')) as CpuProfile);
  } finally {
    await stopChild(upstream);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
