/**
 * The built bundles, as each host runs them: loaded by a bare `node` from a folder holding only
 * the bundle and what its package.json installs, called with a Web Request (Netlify, Deno, Bun),
 * through Vercel's `{ fetch }`, or with real Lambda events (API Gateway v2, function URL, ALB),
 * against a private Redis, a migrated SQLite file and an in-process writer.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../lib/config.js";
import { keysFor } from "../../lib/keys.js";
import type { Bundle, Host } from "../../scripts/build-functions.js";
import {
  eventually,
  type InProcessWriter,
  migratedDatabase,
  startWriter,
  testConfig,
} from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import {
  CleanNode,
  DRIVER,
  type HttpResult,
  type LambdaResult,
  prepareCleanRoom,
  removeRoom,
} from "./cleanRoom.js";
import { albEvent, apiGatewayV2Event, type EventRequest, functionUrlEvent } from "./events.js";

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ORIGIN = "https://votes.example.com";

let redisServer: RedisServer;
let redis: Redis;
let config: Config;
let writer: InProcessWriter;
let room: Awaited<ReturnType<typeof prepareCleanRoom>>;
let node: CleanNode;

beforeAll(async () => {
  redisServer = await new RedisServer().start();
  redis = redisServer.client();
  config = testConfig({ REDIS_URL: redisServer.url, DATABASE_URL: await migratedDatabase() });
  room = await prepareCleanRoom();
  writer = await startWriter(config);
  await eventually(
    async () => (await redis.hget(keysFor(config.redis.prefix).meta, "run")) !== null,
    10_000,
    "writer seeded the queue",
  );
  node = new CleanNode(room.room, {
    REDIS_URL: config.redis.url,
    REDIS_PREFIX: config.redis.prefix,
    DATABASE_URL: config.database.url,
    LOG_LEVEL: "silent",
  });
  await node.ready;
});

afterAll(async () => {
  await node?.stop();
  await writer?.stop();
  redis?.disconnect();
  await redisServer?.destroy();
  if (room) removeRoom(room.dir);
});

const bundle = (host: Host, name: Bundle["name"]) => {
  const found = room.bundles.find((b) => b.host === host && b.name === name);
  if (!found) throw new Error(`no bundle ${host}/${name}`);
  return room.path(found);
};

const request = (
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) => ({
  method,
  url: `${ORIGIN}${path}`,
  headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
  body,
});

const web = (
  name: Bundle["name"],
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
) => node.call<HttpResult>(bundle("web", name), "web", request(method, path, body, headers));
const vercel = (name: Bundle["name"], method: string, path: string, body?: string) =>
  node.call<HttpResult>(bundle("vercel", name), "fetch", request(method, path, body));
const lambda = (name: Bundle["name"], event: unknown) =>
  node.call<LambdaResult>(bundle("aws-lambda", name), "lambda", event);

const lambdaBody = (result: LambdaResult) =>
  JSON.parse(result.isBase64Encoded ? Buffer.from(result.body, "base64").toString() : result.body);

function expectQueued(body: unknown, option: string) {
  expect(body).toEqual({
    id: expect.any(Number),
    option,
    created_at: expect.stringMatching(ISO_MS),
    status: "queued",
  });
}

/** Polls the given lookup until the vote is recorded, and returns that body. */
async function recorded(lookup: () => Promise<{ status: number; body: string }>) {
  let last: { status: number; body: string } | undefined;
  await eventually(
    async () => {
      last = await lookup();
      return last.status === 200 && JSON.parse(last.body).status === "recorded";
    },
    10_000,
    "vote recorded by the writer",
  );
  return JSON.parse(last?.body ?? "null");
}

describe("bundles in a clean node process", () => {
  it("run without tsx, loaders or devDependencies: only the external native package resolves", async () => {
    const env = await node.call<{
      execArgv: string[];
      nodeOptions: string | null;
      resolvable: Record<string, boolean>;
    }>(bundle("web", "getTotals"), "environment");
    expect(env.execArgv).toEqual([]);
    expect(env.nodeOptions).toBeNull();
    expect(env.resolvable).toEqual({
      libsql: true,
      ioredis: false,
      hono: false,
      zod: false,
      tsx: false,
      vitest: false,
      esbuild: false,
    });
    for (const b of room.bundles) {
      const pkg = JSON.parse(readFileSync(join(b.dir, "package.json"), "utf8"));
      expect(Object.keys(pkg.dependencies)).toEqual(["libsql"]);
      expect(readFileSync(b.file, "utf8")).not.toMatch(/readFileSync\([^)]*\.lua/);
    }
  });

  it("export what each host calls", async () => {
    const shapes = await Promise.all(
      room.bundles.map((b) => node.call<Record<string, unknown>>(room.path(b), "exports")),
    );
    room.bundles.forEach((b, i) => {
      const shape = shapes[i];
      if (b.host === "web") {
        expect(shape).toMatchObject({
          names: ["config", "default"],
          defaultType: "function",
          defaultFetch: "function",
        });
      } else if (b.host === "vercel") {
        expect(shape).toMatchObject({
          names: ["default"],
          defaultType: "object",
          defaultFetch: "function",
        });
      } else {
        expect(shape).toMatchObject({ names: ["handler"], handlerType: "function" });
      }
    });
    const config = (name: Bundle["name"]) =>
      shapes[room.bundles.findIndex((b) => b.host === "web" && b.name === name)]?.config;
    expect(config("submitVote")).toEqual({ path: "/votes", method: ["POST"] });
    expect(config("getTotals")).toEqual({ path: "/votes", method: ["GET", "HEAD"] });
    expect(config("getVote")).toEqual({ path: "/votes/:id", method: ["GET", "HEAD"] });
  });

  it("come with the routing Vercel and AWS SAM need", () => {
    const vercelRoot = join(room.dir, "build", "vercel");
    const output = JSON.parse(
      readFileSync(join(vercelRoot, ".vercel", "output", "config.json"), "utf8"),
    );
    const route = (method: string, path: string) =>
      output.routes.find(
        (r: { src: string; methods: string[] }) =>
          r.methods.includes(method) && new RegExp(r.src).test(path),
      )?.dest;
    expect(route("POST", "/votes")).toBe("/submitVote");
    expect(route("GET", "/votes")).toBe("/getTotals");
    expect(route("GET", "/votes/42")).toBe("/getVote");
    expect(route("POST", "/votes/42")).toBeUndefined();
    for (const name of ["submitVote", "getTotals", "getVote"]) {
      const func = join(vercelRoot, ".vercel", "output", "functions", `${name}.func`);
      expect(JSON.parse(readFileSync(join(func, ".vc-config.json"), "utf8"))).toMatchObject({
        handler: "index.mjs",
        launcherType: "Nodejs",
      });
      expect(existsSync(join(func, "index.mjs"))).toBe(true);
    }
    const sam = JSON.parse(
      readFileSync(join(room.dir, "build", "aws-lambda", "template.json"), "utf8"),
    );
    const events = Object.values(sam.Resources).flatMap((r) => {
      const props = (
        r as {
          Properties: {
            CodeUri: string;
            Handler: string;
            Events: Record<string, { Properties: object }>;
          };
        }
      ).Properties;
      expect(existsSync(join(room.dir, "build", "aws-lambda", props.CodeUri, "index.mjs"))).toBe(
        true,
      );
      expect(props.Handler).toBe("index.handler");
      return Object.values(props.Events).map((e) => ({ ...e.Properties, fn: props.CodeUri }));
    });
    expect(events).toEqual([
      { Path: "/votes", Method: "POST", fn: "submitVote/" },
      { Path: "/votes", Method: "GET", fn: "getTotals/" },
      { Path: "/votes/{id}", Method: "GET", fn: "getVote/" },
    ]);
  });
});

describe("with a remote database", () => {
  it("a bundle folder runs without its node_modules: the native libSQL part loads only for file: URLs", async () => {
    const bare = mkdtempSync(join(tmpdir(), "votes-bare-"));
    const source = room.bundles.find((b) => b.host === "aws-lambda" && b.name === "getTotals");
    if (!source) throw new Error("no aws-lambda/getTotals bundle");
    cpSync(source.dir, join(bare, "getTotals"), { recursive: true });
    cpSync(DRIVER, join(bare, "driver.mjs"));
    const remote = new CleanNode(bare, {
      REDIS_URL: config.redis.url,
      // An unseeded prefix sends the read to the database: an https:// one nobody answers.
      REDIS_PREFIX: `${config.redis.prefix}-remote`,
      DATABASE_URL: "https://127.0.0.1:9",
      LOG_LEVEL: "silent",
    });
    try {
      await remote.ready;
      const env = await remote.call<{ resolvable: Record<string, boolean> }>(
        join(bare, "getTotals", "index.mjs"),
        "environment",
      );
      expect(env.resolvable.libsql).toBe(false);
      const result = await remote.call<LambdaResult>(
        join(bare, "getTotals", "index.mjs"),
        "lambda",
        apiGatewayV2Event({ method: "GET", path: "/votes" }),
      );
      expect(result.statusCode).toBe(503);
      expect(lambdaBody(result)).toMatchObject({ type: "urn:votes:problem:database-unavailable" });
    } finally {
      await remote.stop();
      rmSync(bare, { recursive: true, force: true });
    }
  });
});

describe("web-standard host (Netlify Functions v2, Deno, Bun)", () => {
  it("queues a vote, shows it queued then recorded, and counts it", async () => {
    const posted = await web("submitVote", "POST", "/votes", JSON.stringify({ option: "web" }));
    expect(posted.status).toBe(202);
    expect(posted.headers["content-type"]).toBe("application/json");
    const vote = JSON.parse(posted.body);
    expectQueued(vote, "web");
    expect(posted.headers.location).toBe(`/votes/${vote.id}`);

    const first = await web("getVote", "GET", `/votes/${vote.id}`);
    expect(first.status).toBe(200);
    expect(["queued", "recorded"]).toContain(JSON.parse(first.body).status);
    expect(await recorded(() => web("getVote", "GET", `/votes/${vote.id}`))).toEqual({
      ...vote,
      status: "recorded",
    });

    const totals = await web("getTotals", "GET", "/votes");
    expect(totals.status).toBe(200);
    expect(totals.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(totals.body).web).toBe(1);
  });

  it("answers the contract's errors as problem+json", async () => {
    const cases: [Promise<HttpResult>, number, string][] = [
      [web("submitVote", "POST", "/votes", "{nope"), 400, "urn:votes:problem:malformed-json"],
      [
        web("submitVote", "POST", "/votes", "x", { "content-type": "text/plain" }),
        415,
        "urn:votes:problem:unsupported-media-type",
      ],
      [
        web("submitVote", "POST", "/votes", JSON.stringify({ option: "" })),
        422,
        "urn:votes:problem:invalid-option",
      ],
      [web("getVote", "GET", "/votes/0"), 400, "urn:votes:problem:bad-id"],
      [web("getVote", "GET", "/votes/999999"), 404, "urn:votes:problem:not-found"],
      [web("getTotals", "DELETE", "/votes"), 405, "urn:votes:problem:method-not-allowed"],
    ];
    for (const [pending, status, type] of cases) {
      const result = await pending;
      expect(result.status).toBe(status);
      expect(result.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(result.body)).toMatchObject({
        type,
        status,
        title: expect.any(String),
        detail: expect.any(String),
      });
    }
  });

  it("is its own .fetch (Deno serve, Bun)", async () => {
    const result = await node.call<HttpResult>(
      bundle("web", "getTotals"),
      "fetch",
      request("GET", "/votes"),
    );
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toEqual(expect.any(Object));
  });
});

describe("Vercel Node runtime ({ fetch })", () => {
  it("queues, looks up and counts a vote", async () => {
    const posted = await vercel(
      "submitVote",
      "POST",
      "/votes",
      JSON.stringify({ option: "vercel" }),
    );
    expect(posted.status).toBe(202);
    const vote = JSON.parse(posted.body);
    expectQueued(vote, "vercel");
    expect(posted.headers.location).toBe(`/votes/${vote.id}`);
    expect(await recorded(() => vercel("getVote", "GET", `/votes/${vote.id}`))).toEqual({
      ...vote,
      status: "recorded",
    });
    expect(JSON.parse((await vercel("getTotals", "GET", "/votes")).body).vercel).toBe(1);
    const missing = await vercel("getVote", "GET", "/votes/abc");
    expect(missing.status).toBe(400);
    expect(missing.headers["content-type"]).toBe("application/problem+json");
  });
});

describe("AWS Lambda (hono/aws-lambda)", () => {
  const post = (option: string, base64: boolean): EventRequest => ({
    method: "POST",
    path: "/votes",
    headers: {
      "content-type": "application/json",
      "idempotency-key": `lambda-${option}-${base64}`,
    },
    body: JSON.stringify({ option }),
    base64,
  });

  it("takes API Gateway HTTP API v2 events, with a base64 body too", async () => {
    for (const base64 of [true, false]) {
      const result = await lambda("submitVote", apiGatewayV2Event(post("apigw", base64)));
      expect(result.statusCode).toBe(202);
      expect(result.headers?.["content-type"]).toBe("application/json");
      const vote = lambdaBody(result);
      expectQueued(vote, "apigw");
      expect(result.headers?.location).toBe(`/votes/${vote.id}`);
      const lookup = async () => {
        const r = await lambda(
          "getVote",
          apiGatewayV2Event({ method: "GET", path: `/votes/${vote.id}` }, "GET /votes/{id}"),
        );
        return { status: r.statusCode, body: JSON.stringify(lambdaBody(r)) };
      };
      expect(await recorded(lookup)).toEqual({ ...vote, status: "recorded" });
    }
    const totals = await lambda("getTotals", apiGatewayV2Event({ method: "GET", path: "/votes" }));
    expect(totals.statusCode).toBe(200);
    expect(lambdaBody(totals).apigw).toBe(2);
  });

  it("replays an Idempotency-Key retry sent as a base64 v2 event", async () => {
    const first = lambdaBody(await lambda("submitVote", apiGatewayV2Event(post("retry", true))));
    const again = await lambda("submitVote", apiGatewayV2Event(post("retry", true)));
    expect(again.statusCode).toBe(202);
    expect(again.headers?.["idempotent-replayed"]).toBe("true");
    expect(lambdaBody(again)).toEqual(first);
  });

  it("takes Lambda function URL events", async () => {
    const result = await lambda("getTotals", functionUrlEvent({ method: "GET", path: "/votes" }));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.["x-totals-source"]).toMatch(/^(redis|sqlite)$/);
    expect(lambdaBody(result)).toEqual(expect.any(Object));
    const posted = await lambda("submitVote", functionUrlEvent(post("url", true)));
    expect(posted.statusCode).toBe(202);
    expectQueued(lambdaBody(posted), "url");
  });

  it("takes ALB events, with and without multi-value headers", async () => {
    const posted = lambdaBody(await lambda("submitVote", albEvent(post("alb", false))));
    expectQueued(posted, "alb");
    const single = await lambda(
      "getVote",
      albEvent({ method: "GET", path: `/votes/${posted.id}` }),
    );
    expect(single.statusCode).toBe(200);
    expect(single.headers?.["content-type"]).toBe("application/json");
    expect(lambdaBody(single)).toMatchObject({ id: posted.id, option: "alb" });
    const multi = await lambda(
      "getVote",
      albEvent({ method: "GET", path: `/votes/${posted.id}` }, true),
    );
    expect(multi.statusCode).toBe(200);
    expect(multi.multiValueHeaders?.["content-type"]).toEqual(["application/json"]);
    const bad = await lambda("submitVote", albEvent({ ...post("x", false), body: "[1]" }));
    expect(bad.statusCode).toBe(400);
    expect(bad.headers?.["content-type"]).toBe("application/problem+json");
    expect(lambdaBody(bad)).toMatchObject({
      status: 400,
      type: "urn:votes:problem:body-not-object",
    });
  });

  it("bundle folders hold the entry the SAM template names", () => {
    for (const b of room.bundles.filter((x) => x.host === "aws-lambda")) {
      expect(existsSync(join(dirname(b.file), "index.mjs"))).toBe(true);
    }
  });
});

describe("connections", () => {
  it("each loaded bundle opened one Redis connection and reused it for all its calls", async () => {
    const list = (await redis.call("CLIENT", "LIST")) as string;
    const api = list.split("\n").filter((line) => / name=votes-api /.test(line));
    // Nine bundles at most were loaded in the clean node, and each answered many calls.
    expect(api.length).toBeGreaterThan(0);
    expect(api.length).toBeLessThanOrEqual(room.bundles.length);
  });
});
