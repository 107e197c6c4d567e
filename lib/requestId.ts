/**
 * Request ids: every response carries `X-Request-Id`, the client's own when it sent a short,
 * printable one, else a fresh UUID; the same id is on every log line of the request.
 */
import { randomUUID } from "node:crypto";

export const REQUEST_ID_HEADER = "X-Request-Id";

const SANE_ID = /^[\w.:@/+=-]{1,128}$/;

/**
 * Where an adapter that has already settled a request's id hands it to the function it calls:
 * a property of the Request under this symbol. On @hono/node-server, reading the header through
 * `request.headers` builds Node's header object and a Headers wrapper first (measured: it cost
 * more than the rest of the request id's work); the adapter reads Node's raw header list instead.
 */
export const KNOWN_REQUEST_ID = Symbol.for("single-writer-votes.requestId");

/** The request id of a request: the one its adapter attached, else from its header. */
export function requestIdFor(request: Request): string {
  const known = (request as { [KNOWN_REQUEST_ID]?: unknown })[KNOWN_REQUEST_ID];
  return typeof known === "string" ? known : requestIdOf(request.headers.get("x-request-id"));
}

/** The client's request id if it is short and printable, else a new one. */
export function requestIdOf(header: string | null | undefined): string {
  return typeof header === "string" && SANE_ID.test(header) ? header : randomUUID();
}
