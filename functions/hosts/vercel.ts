/**
 * Vercel's Node runtime: `export default { fetch }` (a bare default function would be called
 * with the legacy `(req, res)`).
 */
import type { Handler } from "../../lib/http.js";

export const toVercel = (handler: Handler): { fetch: Handler } => ({ fetch: handler });
