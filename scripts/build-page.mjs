// Bundles the page's TypeScript and its libraries into public/build/, so the browser loads
// everything from this server (no CDN). Run by `npm ci`/`npm install` (prepare), `npm start`,
// `npm run build` and the tests. With --if-possible (prepare) an install without the dev
// dependencies skips it with a note instead of failing: the server then says the page is missing.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let build;
try {
  ({ build } = await import('esbuild'));
} catch (error) {
  if (!process.argv.includes('--if-possible')) throw error;
  console.warn('build-page: esbuild is not installed (an install without dev dependencies?): the page is not built.');
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'public', 'build');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, 'public', 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
const styles = join(root, 'node_modules', 'highlight.js', 'styles');
copyFileSync(join(styles, 'github.min.css'), join(out, 'hljs-light.css'));
copyFileSync(join(styles, 'github-dark.min.css'), join(out, 'hljs-dark.css'));
