/**
 * Web-standard hosts (Netlify Functions v2, Deno, Bun): `export default` the handler. It is also
 * its own `.fetch`, for the hosts that look for `export default { fetch }`.
 */
import type { Handler } from "../../lib/http.js";

export type WebHandler = Handler & { fetch: Handler };

export const toWeb = (handler: Handler): WebHandler =>
  Object.assign((request: Request) => handler(request), { fetch: handler });
