// Bundles the page's TypeScript and its libraries into public/build/, so the browser loads
// everything from this server (no CDN). Run by `npm start`, `npm run build` and the tests.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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
