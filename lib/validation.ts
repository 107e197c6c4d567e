/**
 * Validation of what clients send: the vote body, vote ids and idempotency keys. Each check
 * throws an {@link HttpProblem} with the contract's status, so handlers stay linear.
 */
import { MAX_OPTION_LENGTH, optionRules, voteRequest } from "./apiSchemas.js";
import { badRequest, HttpProblem } from "./problem.js";

export { MAX_OPTION_LENGTH };
/** Largest body `POST /votes` accepts, in bytes. */
export const MAX_BODY_BYTES = 1024;
const DECIMAL = /^[0-9]{1,20}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Reads at most {@link MAX_BODY_BYTES} of the request body; a larger one is a 413. */
export async function readLimitedBody(request: Request): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  if (declared !== null) {
    // A declared length is what the HTTP server delivers (Node's parser stops there), so the
    // whole body is at most 1 KiB. arrayBuffer() is also @hono/node-server's fast path: taking
    // `request.body` would build a full undici Request and a web stream per request (profiled:
    // the largest single cost of POST /votes). The size is checked again for hosts that differ.
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.byteLength > MAX_BODY_BYTES) throw tooLarge();
    return body;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const tooLarge = () =>
  new HttpProblem(413, `The body must be at most ${MAX_BODY_BYTES} bytes.`, {
    reason: "body-too-large",
  });

/** Checks `Content-Type: application/json` (UTF-8, the only charset JSON allows). */
export function requireJson(request: Request): void {
  const type = request.headers.get("content-type") ?? "";
  const [mediaType = "", ...params] = type.split(";").map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith("charset="))?.slice("charset=".length);
  const utf8 = charset === undefined || charset === "utf-8" || charset === '"utf-8"';
  if (mediaType !== "application/json" || !utf8) {
    throw new HttpProblem(415, 'Send the vote as "Content-Type: application/json" (UTF-8).', {
      reason: "unsupported-media-type",
      headers: { "Accept-Post": "application/json" },
    });
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Parses a vote body and returns its option, normalised to NFC. */
export function parseVoteBody(bytes: Uint8Array, allowed: ReadonlySet<string> | undefined): string {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw badRequest("malformed-json", 'The body is not valid UTF-8 JSON; send {"option":"…"}.');
  }
  const parsed = voteRequest.safeParse(value);
  if (parsed.success) return allowedOption(parsed.data.option, allowed);
  const issue = parsed.error.issues[0];
  if (!issue || issue.path.length === 0) {
    throw badRequest("body-not-object", 'The body must be a JSON object such as {"option":"…"}.');
  }
  if (issue.code !== "invalid_type") throw invalidOption(issue.message);
  if ((value as { option?: unknown }).option === undefined) {
    throw badRequest("option-missing", 'The field "option" is required.');
  }
  throw badRequest("option-not-string", 'The field "option" must be a string.');
}

/** Applies the option rules (lib/apiSchemas.ts: NFC, 1–64 characters, no controls), then the allow-list. */
export function validateOption(raw: string, allowed: ReadonlySet<string> | undefined): string {
  const rules = optionRules.safeParse(raw);
  if (!rules.success) throw invalidOption(rules.error.issues[0]?.message ?? "Invalid option.");
  return allowedOption(rules.data, allowed);
}

function allowedOption(option: string, allowed: ReadonlySet<string> | undefined): string {
  if (allowed && !allowed.has(option)) {
    throw invalidOption(`"option" must be one of: ${[...allowed].join(", ")}.`);
  }
  return option;
}

const invalidOption = (detail: string) =>
  new HttpProblem(422, detail, { reason: "invalid-option" });

/** Parses a vote id from a path segment: decimal digits, 1 to 2^53−1. */
export function parseVoteId(segment: string): number {
  if (!DECIMAL.test(segment)) {
    throw badRequest("bad-id", "A vote id is a positive decimal integer, such as /votes/123.");
  }
  const id = BigInt(segment);
  if (id === 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badRequest("bad-id", `A vote id is between 1 and ${Number.MAX_SAFE_INTEGER}.`);
  }
  return Number(id);
}

/** Reads the optional `Idempotency-Key` header: 1–255 visible ASCII characters. */
export function readIdempotencyKey(request: Request): string | undefined {
  const key = request.headers.get("idempotency-key");
  if (key === null) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw badRequest(
      "bad-idempotency-key",
      "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice).",
    );
  }
  return key;
}
