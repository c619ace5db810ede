// `node --import ./test/support/loaded-packages.mjs dist/main.js` with LOADED_PACKAGES_FILE set:
// appends to that file the name of every package the process loads, the first time it does (ESM
// imports through a loader hook, CommonJS requires through the resolver). The start-up test
// reads it to see what the app loads, and when.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const file = process.env.LOADED_PACKAGES_FILE;
const seen = new Set();

function note(path) {
  const inModules = path.split('node_modules/')[1];
  if (!inModules) return;
  const name = inModules.split('/').slice(0, inModules.startsWith('@') ? 2 : 1).join('/');
  if (seen.has(name)) return;
  seen.add(name);
  appendFileSync(file, `${name}\n`);
}

if (file) {
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const resolved = resolveFilename.apply(this, args);
    note(resolved);
    return resolved;
  };
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => note(String(url)));
  port1.unref();
  register(new URL('./loaded-packages-hooks.mjs', import.meta.url), { data: { port: port2 }, transferList: [port2] });
}
