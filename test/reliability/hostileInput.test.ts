/**
 * Hostile input at the HTTP boundary, through the real Node server (local.ts startServer):
 * property-based (fast-check) bodies, JSON values, headers, content types, lengths and ids.
 * The service never answers 5xx for a client's mistake, never dies, never queues an invalid
 * vote, and answers every error it renders with problem+json. Oversized and slow bodies are
 * cut off without buffering them.
 */
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../../lib/config.js";
import { createDeps } from "../../lib/deps.js";
import { createLogger } from "../../lib/logger.js";
import { startServer } from "../../local.js";
import { eventually, migratedDatabase, startWriter, testConfig } from "../support/fixtures.js";
import { RedisServer } from "../support/redisServer.js";
import { type Api, startApi } from "./helpers.js";

let redis: RedisServer;
let config: Config;
let api: Api;
/** What each 202 promised: id → the option it was queued with. */
const accepted = new Map<number, string>();

beforeAll(async () => {
  redis = await new RedisServer().start();
  config = testConfig({ REDIS_URL: redis.url, DATABASE_URL: await migratedDatabase() });
  api = await startApi(config);
  const writer = await startWriter(config);
  await eventually(
    async () => (await api.deps.redis().client.hexists(api.deps.keys.meta, "run")) === 1,
  );
  // No writer while the properties run: every queued entry stays in the stream to be checked.
  await writer.stop();
});

afterAll(async () => {
  await api.close();
  await redis.destroy();
});

/**
 * The contract's option rule, written independently of lib/validation.ts: a string, 1–64
 * characters after NFC, no control characters, no unpaired surrogates. The normalised option, or
 * undefined when it must be refused.
 */
function contractOption(raw: unknown): string | undefined {
  if (typeof raw !== "string" || /\p{Cs}/u.test(raw)) return undefined;
  const option = raw.normalize("NFC");
  const length = [...option].length;
  if (length < 1 || length > 64 || /\p{Cc}/u.test(option)) return undefined;
  return option;
}

const CLIENT_ERRORS = new Set([400, 404, 405, 408, 413, 415, 422, 431]);

/** Checks one answer; returns the parsed body. */
async function checkAnswer(
  answer: Response,
  sent: { option?: unknown } | undefined,
): Promise<void> {
  const text = await answer.text();
  if (answer.status === 202) {
    const body = JSON.parse(text);
    // Only a body that holds a valid option may be accepted, and with that option.
    const option = contractOption(sent?.option);
    expect(option, `accepted ${JSON.stringify(sent)}`).toBeDefined();
    expect(body.option).toBe(option);
    accepted.set(body.id, body.option);
    return;
  }
  if (answer.status === 200) return;
  expect(CLIENT_ERRORS.has(answer.status), `status ${answer.status}: ${text}`).toBe(true);
  expect(answer.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = JSON.parse(text);
  expect(problem).toMatchObject({ status: answer.status });
  expect(Object.keys(problem).sort()).toEqual(["detail", "status", "title", "type"]);
  expect(text).not.toMatch(/\n\s+at /);
}

const contentTypes = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 3 },
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    'application/json; charset="UTF-8"',
    "application/json; charset=latin1",
    "APPLICATION/JSON",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
  ),
  fc.string({ maxLength: 40 }),
);
/** Header values fetch can send: visible Latin-1, no CR/LF/NUL. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  maxLength: 300,
});
const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(null), weight: 3 },
  fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 255,
  }),
  headerValue,
);
const option = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.constantFrom(
    "",
    " ",
    "a".repeat(64),
    "a".repeat(65),
    "e\u0301",
    "\u0000",
    "\ud800",
    "🗳️",
    "option1",
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const body = fc.oneof(
  {
    arbitrary: option.map((o) => new TextEncoder().encode(JSON.stringify({ option: o }))),
    weight: 3,
  },
  option.map((o) => new TextEncoder().encode(JSON.stringify({ option: o }))),
  fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "")),
  fc.uint8Array({ maxLength: 1500 }),
  fc.string({ unit: "binary", maxLength: 1100 }).map((s) => new TextEncoder().encode(s)),
  fc.constantFrom(
    new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"option":"bom"}')]),
    new Uint8Array([0xff, 0xfe, 0x7b, 0x00]),
    new TextEncoder().encode(`{"option":"${"x".repeat(1020)}"}`),
  ),
);

function decoded(bytes: Uint8Array): { option?: unknown } | undefined {
  try {
    const value = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes),
    );
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

describe("hostile input over HTTP", () => {
  it("POST /votes: arbitrary bodies, content types and idempotency keys", async () => {
    await fc.assert(
      fc.asyncProperty(body, contentTypes, idempotencyKey, async (bytes, type, key) => {
        const headers: Record<string, string> = {};
        if (type !== "") headers["Content-Type"] = type;
        if (key !== null) headers["Idempotency-Key"] = key;
        let answer: Response;
        try {
          answer = await fetch(`${api.url}/votes`, { method: "POST", headers, body: bytes });
        } catch (error) {
          // A header the HTTP client itself refuses to send never reaches the service.
          if ((error as { cause?: { code?: string } }).cause?.code === "UND_ERR_INVALID_ARG")
            return;
          throw error;
        }
        await checkAnswer(answer, answer.status === 202 ? decoded(bytes) : undefined);
      }),
      { numRuns: 300 },
    );
  });

  it("GET /votes/{id} and other routes: arbitrary ids, paths and methods", async () => {
    const path = fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => `/votes/${encodeURIComponent(s)}`),
      fc.constantFrom(
        "/votes/0",
        "/votes/-1",
        "/votes/1e3",
        "/votes/9007199254740992",
        "/votes/%",
        "/votes/%ZZ",
        "/votes/%00",
        "/votes//",
        "/votes/1/2",
        "/%",
        "/..",
      ),
      fc.bigInt({ min: 0n, max: 2n ** 70n }).map((n) => `/votes/${n}`),
      fc.webPath(),
    );
    const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");
    await fc.assert(
      fc.asyncProperty(path, method, async (p, m) => {
        const answer = await fetch(`${api.url}${p}`, {
          method: m,
          ...(m === "POST" ? { headers: { "Content-Type": "application/json" }, body: "{}" } : {}),
        });
        if (answer.status === 405) expect(answer.headers.get("Allow")).toBeTruthy();
        if (m === "HEAD") {
          expect(answer.status).toBeLessThan(500);
          return;
        }
        await checkAnswer(answer, undefined);
      }),
      { numRuns: 300 },
    );
  });

  it("raw bytes on the socket: no 5xx, and the server stays up", async () => {
    const { port } = new URL(api.url);
    const request = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 600 }),
      fc
        .tuple(
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.nat(5000),
        )
        .map(([header, payload, length]) =>
          Buffer.concat([
            Buffer.from(
              `POST /votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Junk: `,
            ),
            Buffer.from(header, "latin1"),
            Buffer.from(
              `\r\nContent-Length: ${Math.min(length, payload.length)}\r\nConnection: close\r\n\r\n`,
            ),
            payload,
          ]),
        ),
    );
    await fc.assert(
      fc.asyncProperty(request, async (bytes) => {
        const status = await rawExchange(Number(port), bytes);
        if (status !== undefined) expect(status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it("queued only valid votes, exactly those answered 202, with their options", async () => {
    const client = api.deps.redis().client;
    const entries = await client.xrange(api.deps.keys.stream, "-", "+");
    expect(accepted.size).toBeGreaterThan(0);
    expect(entries.length).toBe(accepted.size);
    for (const [id, fields] of entries) {
      const option = fields[fields.indexOf("option") + 1] as string;
      expect(accepted.get(Number(id.split("-")[0]))).toBe(option);
      expect(contractOption(option)).toBe(option);
    }
  });
});

/** Writes bytes, reads until the server closes; the status of the first response, if any. */
function rawExchange(port: number, bytes: Uint8Array): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      // A request the parser still waits on (declared length not sent) is not an answer; the
      // server's request timeout closes it. Here it means: no 5xx, no crash.
      resolve(statusOf(received));
    }, 2_000);
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(statusOf(received));
    });
    socket.write(bytes, (error) => error && reject(error));
    socket.end();
  });
}

const statusOf = (text: string) => {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
};

describe("oversized and slow bodies", () => {
  it("a 100 MB streamed upload gets 413 long before it ends, without buffering it", async () => {
    const { port } = new URL(api.url);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const total = 100;
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const result = await new Promise<{ status: number; sentMb: number }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest({
        host: "127.0.0.1",
        port: Number(port),
        method: "POST",
        path: "/votes",
        headers: { "Content-Type": "application/json", "Transfer-Encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, sentMb: sent });
        req.destroy();
      });
      req.on("error", (error) => (sent >= total ? reject(error) : undefined));
      const pump = () => {
        while (sent < total) {
          peak = Math.max(peak, process.memoryUsage().rss);
          sent++;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      req.write('{"option":"');
      pump();
    });
    expect(result.status).toBe(413);
    expect(result.sentMb).toBeLessThan(total);
    expect(peak - rssBefore).toBeLessThan(50 * 1024 * 1024);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it("a declared 100 MB body gets 413 before any of it is sent", async () => {
    const { port } = new URL(api.url);
    const status = await rawExchange(
      Number(port),
      Buffer.from(
        `POST /votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n{"op`,
      ),
    );
    expect(status).toBe(413);
  });

  it("a slow-loris body (a byte now and then) is cut off by the request timeout", async () => {
    const deps = createDeps({ ...config, port: 0 }, createLogger(config.log, "api"));
    const server = startServer(deps, { headersMs: 400, requestMs: 800, checkEveryMs: 100 });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    try {
      const outcome = await new Promise<{ status: number | undefined; bytesLeft: number }>(
        (resolve) => {
          const socket = connect(port, "127.0.0.1");
          const payload = '{"option":"slow"}';
          let left = payload.length;
          let received = "";
          socket.on("data", (c) => {
            received += c.toString("latin1");
          });
          socket.on("error", () => {});
          socket.write(
            `POST /votes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`,
          );
          const drip = setInterval(() => {
            if (left === 0 || socket.destroyed) return;
            socket.write(payload[payload.length - left] as string);
            left--;
          }, 150);
          socket.on("close", () => {
            clearInterval(drip);
            resolve({ status: statusOf(received), bytesLeft: left });
          });
        },
      );
      // Cut off mid-body: the 17 bytes at 150 ms each would take 2.5 s; the limit is 0.8 s.
      expect(outcome.bytesLeft).toBeGreaterThan(0);
      expect(outcome.status).toBe(408);
    } finally {
      server.close();
      await deps.close();
    }
  });

  it("slow headers are cut off by the headers timeout", async () => {
    const deps = createDeps({ ...config, port: 0 }, createLogger(config.log, "api"));
    const server = startServer(deps, { headersMs: 400, requestMs: 800, checkEveryMs: 100 });
    await new Promise((resolve) => server.once("listening", resolve));
    const { port } = server.address() as { port: number };
    try {
      const linesLeft = await new Promise<number>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        let left = 30;
        socket.on("error", () => {});
        socket.write("GET /votes HTTP/1.1\r\nHost: x\r\n");
        const drip = setInterval(() => {
          if (left === 0 || socket.destroyed) return;
          socket.write(`X-Slow-${left}: 1\r\n`);
          left--;
        }, 100);
        socket.on("close", () => {
          clearInterval(drip);
          resolve(left);
        });
        socket.resume();
      });
      expect(linesLeft).toBeGreaterThan(0);
    } finally {
      server.close();
      await deps.close();
    }
  });
});
