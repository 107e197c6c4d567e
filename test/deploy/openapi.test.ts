/**
 * openapi.json against the service: every documented status of every operation is driven once
 * (through local.ts's createApp, with a real Redis, SQLite file and writer), and each answer's
 * media type, headers and body are validated against the documented JSON schemas (ajv, 2020-12).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "../../lib/apiSchemas.js";
import type { Deps } from "../../lib/deps.js";
import { type buildOpenApi, openApiIsCurrent } from "../../lib/openapi.js";
import { createApp } from "../../local.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  startWriter,
  testConfig,
  testDeps,
} from "../support/fixtures.js";
import { freePort, RedisServer } from "../support/redisServer.js";

type Doc = ReturnType<typeof buildOpenApi>;
interface Case {
  name: string;
  app: () => Hono;
  method: string;
  path: string;
  /** The documented path template. */
  template: string;
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const doc: Doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
const DOC_ID = "https://votes.test/openapi.json";
ajv.addSchema({ ...doc, $id: DOC_ID });
const pointer = (...parts: string[]) =>
  parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

let redisServer: RedisServer;
let writer: InProcessWriter;
const deps: Deps[] = [];
let ready: Hono;
let unseeded: Hono;
let down: Hono;
let voteId = 0;

beforeAll(async () => {
  redisServer = await new RedisServer().start();
  const database = await migratedDatabase();
  const config = testConfig({
    REDIS_URL: redisServer.url,
    DATABASE_URL: database,
    MAX_QUEUE_LENGTH: "50",
  });
  writer = await startWriter(config);
  const make = (d: Deps) => {
    deps.push(d);
    return createApp(d);
  };
  ready = make(testDeps(config));
  unseeded = make(testDeps(testConfig({ REDIS_URL: redisServer.url, DATABASE_URL: database })));
  down = make(
    testDeps(
      testConfig({
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        REDIS_TIMEOUT_MS: "200",
        // A folder is not a database: every read fails.
        DATABASE_URL: `file:${mkdtempSync(join(tmpdir(), "votes-notadb-"))}`,
      }),
    ),
  );
  await eventually(async () => (await ready.request("/readyz")).status === 200, 10_000, "ready");
  const posted = await ready.request("/votes", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"option":"documented"}',
  });
  voteId = (await posted.json()).id;
});

afterAll(async () => {
  for (const d of deps) await d.close();
  await writer?.stop();
  await redisServer?.destroy();
});

const json = { "Content-Type": "application/json" };
const cases: Case[] = [
  {
    name: "a vote",
    app: () => ready,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 202,
    body: '{"option":"option1"}',
    headers: json,
  },
  {
    name: "not JSON",
    app: () => ready,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 400,
    body: "{",
    headers: json,
  },
  {
    name: "too large",
    app: () => ready,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 413,
    body: JSON.stringify({ option: "x".repeat(2000) }),
    headers: json,
  },
  {
    name: "not application/json",
    app: () => ready,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 415,
    body: "option1",
    headers: { "Content-Type": "text/plain" },
  },
  {
    name: "a bad option",
    app: () => ready,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 422,
    body: '{"option":"a\\u0000b"}',
    headers: json,
  },
  {
    name: "no writer yet",
    app: () => unseeded,
    method: "POST",
    path: "/votes",
    template: "/votes",
    status: 503,
    body: '{"option":"option1"}',
    headers: json,
  },
  {
    name: "totals",
    app: () => ready,
    method: "GET",
    path: "/votes",
    template: "/votes",
    status: 200,
  },
  {
    name: "no Redis, no database",
    app: () => down,
    method: "GET",
    path: "/votes",
    template: "/votes",
    status: 503,
  },
  {
    name: "a vote by id",
    app: () => ready,
    method: "GET",
    path: "/votes/{id}",
    template: "/votes/{id}",
    status: 200,
  },
  {
    name: "a bad id",
    app: () => ready,
    method: "GET",
    path: "/votes/0",
    template: "/votes/{id}",
    status: 400,
  },
  {
    name: "an unknown id",
    app: () => ready,
    method: "GET",
    path: "/votes/987654321",
    template: "/votes/{id}",
    status: 404,
  },
  {
    name: "no Redis",
    app: () => down,
    method: "GET",
    path: "/votes/5",
    template: "/votes/{id}",
    status: 503,
  },
  {
    name: "alive",
    app: () => ready,
    method: "GET",
    path: "/healthz",
    template: "/healthz",
    status: 200,
  },
  {
    name: "ready",
    app: () => ready,
    method: "GET",
    path: "/readyz",
    template: "/readyz",
    status: 200,
  },
  {
    name: "not seeded",
    app: () => unseeded,
    method: "GET",
    path: "/readyz",
    template: "/readyz",
    status: 503,
  },
  {
    name: "metrics",
    app: () => ready,
    method: "GET",
    path: "/metrics",
    template: "/metrics",
    status: 200,
  },
];

const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item as Record<string, { responses: Record<string, unknown> }>).flatMap(
    ([method, op]) =>
      Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
  ),
);

describe("openapi.json", () => {
  it("is current with the zod schemas (npm run openapi)", () => {
    const file = readFileSync(new URL("../../openapi.json", import.meta.url), "utf8");
    expect(openApiIsCurrent(file)).toBe(true);
    expect(openApiIsCurrent(file.replace('"Look up a vote"', '"Look up"'))).toBe(false);
  });

  it("has a case below for every documented response", () => {
    expect(new Set(cases.map((c) => `${c.method} ${c.template} ${c.status}`))).toEqual(
      new Set(documented),
    );
  });

  it.each(cases)("$method $template $status ($name) answers as documented", async (c) => {
    const response = await c.app().request(c.path.replace("{id}", String(voteId)), {
      method: c.method,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body === undefined ? {} : { body: c.body }),
    });
    expect(response.status, await response.clone().text()).toBe(c.status);
    const op = (
      doc.paths as Record<string, Record<string, { responses: Record<string, DocResponse> }>>
    )[c.template]?.[c.method.toLowerCase()];
    const documentedResponse = op?.responses[String(c.status)];
    expect(documentedResponse).toBeDefined();
    const [mediaType] = Object.keys(documentedResponse?.content ?? {});
    expect(response.headers.get("content-type")?.split(";")[0]).toBe(mediaType);
    for (const [name, h] of Object.entries(documentedResponse?.headers ?? {})) {
      if (name === "Idempotent-Replayed") continue;
      const value = response.headers.get(name);
      expect(value, `header ${name}`).not.toBeNull();
      const validHeader = ajv.compile(h.schema);
      expect(validHeader(value), `${name}: ${value}`).toBe(true);
    }
    const ref = `${DOC_ID}#/${pointer("paths", c.template, c.method.toLowerCase(), "responses", String(c.status), "content", mediaType ?? "", "schema")}`;
    const validate = ajv.getSchema(ref);
    expect(validate).toBeDefined();
    const body = mediaType === "text/plain" ? await response.text() : await response.json();
    expect(validate?.(body), JSON.stringify(validate?.errors)).toBe(true);
  });

  it("rejects a body that breaks the documented schema (the check can fail)", () => {
    const validate = ajv.getSchema(`${DOC_ID}#/components/schemas/Vote`);
    expect(
      validate?.({ id: 1, option: "a", created_at: "2024-03-20T15:04:05Z", status: "queued" }),
    ).toBe(false);
    expect(
      validate?.({
        id: 1,
        option: "a",
        created_at: "2024-03-20T15:04:05.123Z",
        status: "queued",
        extra: 1,
      }),
    ).toBe(false);
    expect(
      validate?.({ id: 1, option: "a", created_at: "2024-03-20T15:04:05.123Z", status: "queued" }),
    ).toBe(true);
    const request = ajv.getSchema(`${DOC_ID}#/components/schemas/VoteRequest`);
    expect(request?.({ option: "" })).toBe(false);
    expect(request?.({ option: "a\u0007" })).toBe(false);
    expect(request?.({ option: "😀".repeat(64) })).toBe(true);
  });

  it("405 and unknown routes answer problem+json as described", async () => {
    const response = await ready.request("/votes", { method: "PUT" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
    expect(problem(405, ["method-not-allowed"]).safeParse(await response.json()).success).toBe(
      true,
    );
    expect((await ready.request("/nowhere")).status).toBe(404);
  });
});

interface DocResponse {
  content?: Record<string, { schema: unknown }>;
  headers?: Record<string, { schema: object }>;
}

describe("served by npm run local", () => {
  it("/openapi.json is the document, with VOTE_OPTIONS as the option's enum", async () => {
    expect(await (await ready.request("/openapi.json")).json()).toEqual(doc);
    const config = testConfig({ REDIS_URL: redisServer.url, VOTE_OPTIONS: "red,green" });
    const d = testDeps(config);
    deps.push(d);
    const served = await (await createApp(d).request("/openapi.json")).json();
    expect(served.components.schemas.VoteRequest.properties.option.enum).toEqual(["red", "green"]);
  });

  it("/docs is a Swagger UI page whose assets the service serves itself", async () => {
    const page = await ready.request("/docs");
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1] ?? "");
    expect(assets).toContain("/docs/swagger-ui-bundle.js");
    for (const asset of assets) {
      const response = await ready.request(asset);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    expect((await ready.request("/docs/../package.json")).status).toBe(404);
    expect((await ready.request("/docs/nothing.js")).status).toBe(404);
  });
});
