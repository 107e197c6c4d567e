/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the zod schemas in
 * lib/apiSchemas.ts (the ones lib/validation.ts parses votes with). `npm run openapi` writes it
 * to openapi.json; `npm run local` serves it at /openapi.json, with the allow-list when
 * VOTE_OPTIONS is set.
 */
import { isDeepStrictEqual } from "node:util";
import * as z from "zod";
import { health, notReady, problem, ready, totals, vote, voteRequest } from "./apiSchemas.js";
import type { ProblemStatus } from "./problem.js";

type JsonSchema = Record<string, unknown>;

const TARGET = "draft-2020-12";

/** An inline schema (without `$schema`: OpenAPI 3.1 documents default to 2020-12). */
const jsonSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: TARGET }) as JsonSchema;
  return rest;
};

/** The named schemas (those with a meta `id`) as components, referencing each other. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: TARGET,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const named = [vote, voteRequest, totals, ready, health].map((s) => String(s.meta()?.id));
  return Object.fromEntries(
    named.map((id) => {
      const { $schema: _, $id: __, ...rest } = schemas[id] ?? {};
      return [id, rest];
    }),
  );
}

/** The reasons (`urn:votes:problem:<reason>`) each operation's errors carry. */
const PROBLEMS = {
  submit: {
    400: [
      "malformed-json",
      "body-not-object",
      "option-missing",
      "option-not-string",
      "bad-idempotency-key",
    ],
    413: ["body-too-large"],
    415: ["unsupported-media-type"],
    422: ["invalid-option", "idempotency-key-reused"],
    503: ["redis-unavailable", "not-seeded", "queue-full", "ids-exhausted"],
  },
  totals: { 503: ["database-unavailable"] },
  vote: {
    400: ["bad-id"],
    404: ["not-found"],
    503: ["redis-unavailable", "database-unavailable"],
  },
} satisfies Record<string, Partial<Record<ProblemStatus, [string, ...string[]]>>>;

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request: not JSON, not an object, `option` missing or not a string, a bad id or Idempotency-Key.",
  404: "No such vote.",
  413: "Body over 1 KiB.",
  415: "Body not `application/json`.",
  422: "The option breaks the rules, or the Idempotency-Key was used with another option.",
  503: "Redis unreachable, queue over its bound, or not ready: retry after `Retry-After` seconds.",
};

const header = (description: string, schema: JsonSchema = { type: "string" }) => ({
  description,
  schema,
});
const retryAfter = header("Seconds to wait before retrying.", {
  type: "string",
  pattern: "^[0-9]+$",
});

function problems(table: Partial<Record<ProblemStatus, [string, ...string[]]>>) {
  const responses: Record<string, unknown> = {};
  for (const [code, reasons] of Object.entries(table)) {
    const status = Number(code) as ProblemStatus;
    responses[code] = {
      description: DESCRIPTIONS[status],
      ...(status === 503 ? { headers: { "Retry-After": retryAfter } } : {}),
      content: {
        "application/problem+json": {
          schema: jsonSchema(problem(status, reasons as [string, ...string[]])),
        },
      },
    };
  }
  return responses;
}

export interface OpenApiOptions {
  /** `VOTE_OPTIONS`: documented as the option's `enum`. */
  voteOptions?: ReadonlySet<string> | undefined;
  /** The `servers` entry; none means "the host serving this document". */
  serverUrl?: string;
}

/** The OpenAPI 3.1 document, as a plain JSON value. */
export function buildOpenApi(options: OpenApiOptions = {}) {
  const components = componentSchemas();
  if (options.voteOptions) {
    const request = components.VoteRequest as { properties: { option: JsonSchema } };
    request.properties.option = { ...request.properties.option, enum: [...options.voteOptions] };
  }
  const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
  const refBody = (id: string, description: string, headers?: Record<string, unknown>) => ({
    description,
    ...(headers ? { headers } : {}),
    content: { "application/json": { schema: ref(id) } },
  });
  return {
    openapi: "3.1.1",
    info: {
      title: "single-writer-votes",
      version: "1.0.0",
      description:
        "Votes are queued by stateless functions and written to SQLite by one fenced writer. A `202` vote is never lost and never counted twice; `GET /votes` counts the votes already written. Errors are `application/problem+json` (RFC 9457); a method a path does not take answers `405` with `Allow`, an unknown path `404`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    paths: {
      "/votes": {
        post: {
          operationId: "submitVote",
          summary: "Cast a vote",
          description:
            "Queues the vote in one Redis round trip and answers at once with its id. A retry with the same `Idempotency-Key` and body within 24 h returns the same vote and queues nothing.",
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "1 to 255 visible ASCII characters; a UUID is a good choice.",
              schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,255}$" },
            },
          ],
          requestBody: {
            required: true,
            content: { "application/json": { schema: ref("VoteRequest") } },
          },
          responses: {
            202: refBody("Vote", "Accepted and queued (`status` is `queued`).", {
              Location: header("The vote's URL, /votes/{id}.", {
                type: "string",
                pattern: "^/votes/[0-9]+$",
              }),
              "Idempotent-Replayed": header(
                "`true` when this answers a retry of an earlier request.",
                {
                  type: "string",
                  const: "true",
                },
              ),
            }),
            ...problems(PROBLEMS.submit),
          },
        },
        get: {
          operationId: "getTotals",
          summary: "Totals per option",
          responses: {
            200: refBody("Totals", "Counts of the votes already written to SQLite.", {
              "X-Totals-Source": header(
                "Where the totals were read: `redis` (published by the writer) or `sqlite`.",
                {
                  type: "string",
                  enum: ["redis", "sqlite"],
                },
              ),
            }),
            ...problems(PROBLEMS.totals),
          },
        },
      },
      "/votes/{id}": {
        get: {
          operationId: "getVote",
          summary: "Look up a vote",
          parameters: [
            {
              name: "id",
              in: "path",
              required: true,
              description: "A vote id: 1 to 2^53−1, decimal digits.",
              schema: { type: "string", pattern: "^[0-9]+$" },
            },
          ],
          responses: {
            200: refBody("Vote", "The vote: `queued` while in the queue, `recorded` once written."),
            ...problems(PROBLEMS.vote),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "health",
          summary: "The process is alive",
          responses: { 200: refBody("Health", "Alive.") },
        },
      },
      "/readyz": {
        get: {
          operationId: "ready",
          summary: "Redis and the database answer, and a writer seeded the queue",
          responses: {
            200: refBody("Ready", "Ready to accept votes."),
            503: {
              description: "Not ready; `checks` says what is missing.",
              headers: { "Retry-After": retryAfter },
              content: { "application/problem+json": { schema: jsonSchema(notReady) } },
            },
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary: "Prometheus metrics",
          responses: {
            200: {
              description: "Prometheus text exposition format.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
    components: { schemas: components },
  };
}

/** openapi.json's text: the generic document (no VOTE_OPTIONS, no server). */
export const openApiText = () => `${JSON.stringify(buildOpenApi(), null, 2)}\n`;

/** Whether a file's text describes the same document (its formatting aside). */
export function openApiIsCurrent(text: string): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(text), JSON.parse(openApiText()));
  } catch {
    return false;
  }
}
