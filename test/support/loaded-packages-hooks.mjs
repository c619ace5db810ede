// Loader hooks for loaded-packages.mjs: reports every URL loaded through ESM.
let port;

export function initialize(data) {
  port = data.port;
}

export async function load(url, context, next) {
  port.postMessage(url);
  return next(url, context);
}
