import { type ClientRequest, Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, request as httpsRequest } from 'node:https';

const nodeBodies = new WeakMap<Response, IncomingMessage>();

/**
 * The node:http response behind a Response from createNodeHttpFetch, to read the body as a
 * Node stream: the web stream around it only starts reading when someone reads it.
 */
export function nodeBodyOf(response: Response): IncomingMessage | undefined {
  return nodeBodies.get(response);
}

/** A request body made as the request is sent, and made again if it is sent again. */
class DeferredBody {
  constructor(readonly make: () => string) {}
}

/** A fetch body, as the SDK's RequestInit types it. */
export type RequestBody = NonNullable<RequestInit['body']>;

/**
 * A body that createNodeHttpFetch makes as it sends the request (and again for a resend), for a
 * caller that would otherwise make it at once and keep it until the response's headers come.
 * Only createNodeHttpFetch sends it; it is typed as a body so that it can stand in a RequestInit.
 */
export function deferredBody(make: () => string): RequestBody {
  return new DeferredBody(make) as unknown as RequestBody;
}

/**
 * A `fetch` for the openai SDK on node:http with pooled keep-alive agents instead of Node's
 * built-in fetch (undici). The SDK is unchanged: it gets a standard Response whose body is a
 * ReadableStream fed from the socket. Measured by `npm run bench` (README, Performance): the
 * built-in fetch's per-request and per-chunk machinery cost more CPU and memory per stream.
 *
 * Only what the SDK uses: method, headers, a string, byte or deferred body, and an AbortSignal.
 * `tls.ca`: certificates to trust instead of Node's (the specs' own; operators have NODE_EXTRA_CA_CERTS).
 */
export function createNodeHttpFetch(tls: Pick<HttpsAgentOptions, 'ca'> = {}): typeof fetch {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
    'https:': new HttpsAgent({ keepAlive: true, scheduling: 'lifo', ...tls }),
  };

  return (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    try {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const agent = agents[url.protocol === 'https:' ? 'https:' : 'http:'];
      return send(url, init.method ?? 'GET', headersOf(init.headers), bodyOf(init.body), signal, agent, MAX_STALE_SOCKETS);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
    }
  };
}

/**
 * Kept-alive sockets that may be found closed by the server in a row, each costing one resend: as
 * many as the pool may hold idle after a burst is more than any server closes at once.
 */
const MAX_STALE_SOCKETS = 3;

/** Failures of a request on a kept-alive socket that the server had closed: the server never saw it. */
const staleSocketFailures = new WeakSet<Error>();

/**
 * Sends the request, again on another socket when a kept-alive one turns out to have been closed by
 * the server (the race Node's docs describe for `request.reusedSocket`: a server's idle timeout
 * closing the socket as it is reused). The payload lives in this frame only until the response's
 * headers come: the closures in open() live as long as the response, and a request body (the whole
 * context, tens of KB) must not live with them.
 */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: Payload,
  signal: AbortSignal | undefined,
  agent: HttpAgent,
  staleSocketsLeft: number,
): Promise<Response> {
  // node:http throws at once on what it refuses (a control character in a header value, say): the caller rejects with it.
  const opened = open(url, method, headers, signal, agent);
  if (payload instanceof DeferredBody) endWhenConnected(opened.req, payload);
  else opened.req.end(payload);
  return opened.response.catch((error: unknown) => {
    if (staleSocketsLeft > 0 && error instanceof Error && staleSocketFailures.has(error)) {
      return send(url, method, headers, payload, signal, agent, staleSocketsLeft - 1);
    }
    throw error;
  });
}

/**
 * Makes the body once the request's socket is connected (for https, once its TLS handshake is
 * done): a socket that is still connecting keeps what is written to it, and in a burst of answers
 * connections wait their turn in the event loop for hundreds of milliseconds, each with its
 * context as JSON (README, Performance). A socket from the keep-alive pool takes it at once.
 */
function endWhenConnected(req: ClientRequest, body: DeferredBody): void {
  const end = () => {
    if (req.destroyed) return; // aborted or failed meanwhile: nothing to send
    try {
      req.end(body.make());
    } catch (error) {
      req.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  };
  req.once('socket', (socket) => {
    if (!socket.connecting) return end();
    socket.once('encrypted' in socket && socket.encrypted ? 'secureConnect' : 'connect', end);
  });
}

/** The request, without its body yet, and the Response it brings. */
function open(url: URL, method: string, headers: Record<string, string>, signal: AbortSignal | undefined, agent: HttpAgent): { req: ClientRequest; response: Promise<Response> } {
  const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, agent });
  const response = new Promise<Response>((resolve, reject) => {
    let body: ReadableStreamDefaultController<Uint8Array> | undefined;
    let res: IncomingMessage | undefined;

    const onAbort = () => {
      const error = abortError(signal!);
      req.destroy(error);
      res?.destroy(error); // ends a reader of nodeBodyOf(response) too
      if (body) body.error(error);
      else reject(error);
    };
    req.once('response', (incoming: IncomingMessage) => {
      res = incoming;
      let reading = false;
      const stream = new ReadableStream<Uint8Array>(
        {
          start(controller) {
            body = controller;
          },
          pull(controller) {
            if (reading) return void incoming.resume();
            reading = true;
            incoming.on('data', (chunk: Buffer) => {
              controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
              if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
            });
            incoming.once('end', () => {
              try {
                controller.close();
              } catch {
                // already errored or cancelled
              }
            });
            incoming.once('error', (error) => controller.error(error));
            incoming.once('aborted', () => controller.error(new Error('The upstream connection closed before the response was complete')));
          },
          cancel() {
            signal?.removeEventListener('abort', onAbort);
            incoming.destroy();
          },
        },
        // Nothing is read from the socket until the body is: nodeBodyOf's reader may take it instead.
        { highWaterMark: 0 },
      );
      incoming.once('end', () => signal?.removeEventListener('abort', onAbort));
      const status = incoming.statusCode ?? 502;
      const webResponse = new Response(status === 204 || status === 304 ? null : stream, {
        status,
        statusText: incoming.statusMessage,
        headers: responseHeaders(incoming.rawHeaders),
      });
      nodeBodies.set(webResponse, incoming);
      resolve(webResponse);
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      if (body) return body.error(error); // the response had begun: its body fails
      const failure = Object.assign(new TypeError('fetch failed'), { cause: error });
      if (req.reusedSocket && error.code === 'ECONNRESET' && !signal?.aborted) staleSocketFailures.add(failure);
      reject(failure);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  return { req, response };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

function headersOf(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => (out[name] = value));
  return out;
}

function responseHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return headers;
}

type Payload = string | Uint8Array | DeferredBody | undefined;

function bodyOf(body: RequestInit['body'] | DeferredBody): Payload {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof DeferredBody) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  throw new TypeError('createNodeHttpFetch sends string, byte and deferred bodies only');
}
