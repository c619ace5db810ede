// jest (29, under --experimental-vm-modules) cannot `require()` an ES module, which Node 20.19+
// can. @nestjs/throttler ships CommonJS that requires the ESM-only @nestjs/common 12, so under
// jest it fails to load. This bundles the same package into one ES module for the tests:
// its CommonJS files are wrapped by esbuild, and each require() of @nestjs/*, rxjs,
// reflect-metadata or a Node built-in becomes an `import` of the one instance the app uses.
// The app itself, outside jest, loads the package as published.
import { builtinModules } from 'node:module';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const shared = new RegExp(
  `^(@nestjs/[^/]+|rxjs|reflect-metadata|${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')}|node:.*)(/.*)?$`,
);

export async function buildEsmShims(outDir) {
  mkdirSync(outDir, { recursive: true });
  const require = createRequire(import.meta.url);
  const packageName = '@nestjs/throttler';
  const names = Object.keys(await import(packageName)).filter((name) => name !== 'default' && name !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(name));
  await build({
    stdin: {
      contents: `import * as pkg from ${JSON.stringify(require.resolve(packageName))};\nexport const { ${names.join(', ')} } = pkg;\n`,
      resolveDir: process.cwd(),
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile: `${outDir}/nestjs-throttler.mjs`,
    logLevel: 'warning',
    plugins: [
      {
        name: 'shared-modules-as-imports',
        setup(builder) {
          builder.onResolve({ filter: shared }, (args) =>
            args.namespace === 'shared' ? { path: args.path, external: true } : { path: args.path, namespace: 'shared' },
          );
          builder.onLoad({ filter: /.*/, namespace: 'shared' }, (args) => ({
            contents: `export * from ${JSON.stringify(args.path)};`,
            resolveDir: process.cwd(),
          }));
        },
      },
    ],
  });
}
