/**
 * Bench: the HTTP load generator. wrk when it is installed (far lighter on CPU than autocannon,
 * which matters when load generator, Redis and service share two cores), else autocannon.
 * Both are driven the same way: N keep-alive connections for D seconds against one endpoint.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LoadTarget {
  /** e.g. `http://127.0.0.1:8080` */
  base: string;
  method: "GET" | "POST";
  /** Fixed path, or ids picked at random in [from, to] as `/votes/{id}`. */
  path: string | { idsFrom: number; idsTo: number };
  /** POST bodies, used in turn. */
  bodies?: string[];
}

export interface LoadResult {
  tool: "wrk" | "autocannon";
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
}

let wrkPath: string | null | undefined;

/** The wrk binary, or null when it is not installed (then autocannon is used). */
export function findWrk(): string | null {
  if (wrkPath !== undefined) return wrkPath;
  try {
    wrkPath = execFileSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).trim() || null;
  } catch {
    wrkPath = null;
  }
  return wrkPath;
}

export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  return findWrk() ? runWrk(target, options) : runAutocannon(target, options);
}

const scriptDir = mkdtempSync(join(tmpdir(), "votes-bench-wrk-"));
let scriptCount = 0;

/** A wrk Lua script: pre-built requests used in turn (cheap), and a JSON summary on stdout. */
function wrkScript(target: LoadTarget): string {
  const paths =
    typeof target.path === "string"
      ? [target.path]
      : Array.from({ length: 2000 }, () => {
          const { idsFrom, idsTo } = target.path as { idsFrom: number; idsTo: number };
          return `/votes/${idsFrom + Math.floor(Math.random() * (idsTo - idsFrom + 1))}`;
        });
  const bodies = target.bodies ?? [];
  const lua = `
local paths = {${paths.map((p) => JSON.stringify(p)).join(",")}}
local bodies = {${bodies.map((b) => `[==[${b}]==]`).join(",")}}
local reqs = {}
local n = 0
function init(args)
  local count = math.max(#paths, #bodies)
  for i = 1, count do
    local path = paths[((i - 1) % #paths) + 1]
    if #bodies > 0 then
      local headers = { ["Content-Type"] = "application/json" }
      reqs[i] = wrk.format("${target.method}", path, headers, bodies[((i - 1) % #bodies) + 1])
    else
      reqs[i] = wrk.format("${target.method}", path)
    end
  end
end
function request()
  n = (n % #reqs) + 1
  return reqs[n]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`;
  const file = join(scriptDir, `load-${++scriptCount}.lua`);
  writeFileSync(file, lua);
  return file;
}

async function runWrk(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const script = wrkScript(target);
  const args = [
    "-t",
    "2",
    "-c",
    String(options.connections),
    "-d",
    `${options.seconds}s`,
    "--timeout",
    "5s",
    "-s",
    script,
    target.base,
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(findWrk() as string, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${err || out}`)),
    );
  });
  const line = output.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk printed no summary:\n${output}`);
  const s = JSON.parse(line.slice("BENCH_JSON ".length)) as Record<string, number>;
  const seconds = (s.duration_us ?? 0) / 1e6;
  const requests = s.requests ?? 0;
  return {
    tool: "wrk",
    requests,
    seconds,
    rps: seconds > 0 ? requests / seconds : 0,
    p50Ms: (s.p50_us ?? 0) / 1000,
    p99Ms: (s.p99_us ?? 0) / 1000,
    maxMs: (s.max_us ?? 0) / 1000,
    errors: (s.connect ?? 0) + (s.read ?? 0) + (s.write ?? 0) + (s.status ?? 0) + (s.timeout ?? 0),
  };
}

async function runAutocannon(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = (await import("autocannon")) as unknown as {
    default: (opts: Record<string, unknown>) => Promise<AutocannonResult>;
  };
  const path = target.path;
  let turn = 0;
  const bodies = target.bodies ?? [];
  const result = await autocannon({
    url: target.base,
    connections: options.connections,
    duration: options.seconds,
    timeout: 5,
    requests: [
      {
        method: target.method,
        setupRequest: (request: Record<string, unknown>) => {
          const p =
            typeof path === "string"
              ? path
              : `/votes/${path.idsFrom + Math.floor(Math.random() * (path.idsTo - path.idsFrom + 1))}`;
          const body = bodies.length > 0 ? bodies[turn++ % bodies.length] : undefined;
          return {
            ...request,
            path: p,
            ...(body === undefined
              ? {}
              : { body, headers: { "content-type": "application/json" } }),
          };
        },
      },
    ],
  });
  return {
    tool: "autocannon",
    requests: result.requests.total,
    seconds: result.duration,
    rps: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number };
  latency: { p50: number; p99: number; max: number };
}
