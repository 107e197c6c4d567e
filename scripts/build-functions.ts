/**
 * `npm run build:functions`: one esbuild bundle per function and host, in
 * `dist/functions/<host>/<name>/`: `index.mjs` (our code and its pure-JS dependencies, the Lua
 * scripts inlined) and a `package.json` naming what cannot be bundled (the libSQL client's
 * native part). Upload a folder after `npm install --omit=dev` in it. Also writes each host's
 * routing: Vercel's Build Output config, an AWS SAM template; Netlify reads the `config` export.
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { type FunctionRoute, functionRoutes } from "../functions/hosts/routes.js";

export const HOSTS = ["web", "vercel", "aws-lambda"] as const;
export type Host = (typeof HOSTS)[number];

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_OUTDIR = join(ROOT, "dist", "functions");
// Node 20 reached its end of life in April 2026: deploy on 22 (the bundles target Node 20 and up).
const NODE_RUNTIME = "nodejs22.x";

/** Packages left out of the bundle: native code, or optional requires of `ws`. */
const EXTERNAL = ["libsql", "bufferutil", "utf-8-validate"];

export interface Bundle {
  host: Host;
  name: FunctionRoute["name"];
  /** The folder to upload. */
  dir: string;
  /** `dir/index.mjs`. */
  file: string;
  bytes: number;
  /** Packages the bundle imports at run time, with the versions `npm install` gets. */
  dependencies: Record<string, string>;
}

/** The entry of one bundle: the function, wrapped the way its host calls it. */
function entrySource(host: Host, route: FunctionRoute): string {
  const fn = `import { ${route.name} as fn } from "./functions/${route.name}.js";\n`;
  switch (host) {
    case "web":
      return `${fn}import { toWeb } from "./functions/hosts/web.js";\nexport default toWeb(fn);\n`;
    case "vercel":
      return `${fn}import { toVercel } from "./functions/hosts/vercel.js";\nexport default toVercel(fn);\n`;
    case "aws-lambda":
      return `${fn}import { toLambda } from "./functions/hosts/lambda.js";\nexport const handler = toLambda(fn);\n`;
  }
}

/** Netlify reads routing from a literal `export const config` in the file: kept out of minifying. */
function footer(host: Host, route: FunctionRoute): string {
  if (host !== "web") return "";
  return `export const config = ${JSON.stringify({ path: route.path, method: route.methods })};\n`;
}

/**
 * lib/scripts.ts reads `./lua/<name>.lua` next to itself at run time; in a bundle there is no such
 * file, so the sources are inlined and the read becomes a lookup. Fails the build when the read
 * changes shape, rather than emit a bundle that breaks at its first vote.
 */
export const inlineLua: Plugin = {
  name: "inline-lua",
  setup(b) {
    b.onLoad({ filter: /[\\/]lib[\\/]scripts\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const read =
        /readFileSync\(\s*new URL\(`\.\/lua\/\$\{name\}\.lua`, import\.meta\.url\),\s*"utf8",?\s*\)/;
      if (!read.test(source)) {
        throw new Error(
          "lib/scripts.ts no longer reads lua/<name>.lua the way inline-lua expects: update scripts/build-functions.ts",
        );
      }
      const dir = join(dirname(args.path), "lua");
      const lua = Object.fromEntries(
        readdirSync(dir)
          .filter((f) => f.endsWith(".lua"))
          .map((f) => [basename(f, ".lua"), readFileSync(join(dir, f), "utf8")]),
      );
      const contents = `const __inlinedLua = ${JSON.stringify(lua)};\n${source.replace(
        read,
        "__inlinedLua[name]",
      )}`;
      return {
        contents,
        loader: "ts",
        watchFiles: Object.keys(lua).map((n) => join(dir, `${n}.lua`)),
      };
    });
  },
};

/**
 * Parts of dependencies a function does not need at import: replaced by a module that fails
 * with a clear message if it is ever reached, or loaded at first use. Each saves tens of KB of
 * bundle, or milliseconds of cold start.
 */
const STUBS: { filter: RegExp; contents: string }[] = [
  {
    // pino's worker-thread transports (LOG_FORMAT=pretty): functions log JSON lines to stdout.
    filter: /[\\/]pino[\\/]lib[\\/]transport\.js$/,
    contents: `module.exports = function transport() {
  throw new Error("pino transports are not bundled into the functions: use LOG_FORMAT=json");
};`,
  },
];

export const trimDependencies: Plugin = {
  name: "trim-dependencies",
  setup(b) {
    for (const stub of STUBS) {
      b.onLoad({ filter: stub.filter }, () => ({ contents: stub.contents, loader: "js" }));
    }
    // The native libSQL module (and detect-libc's slow process.report) loads at first use, not at
    // import: a function on a remote database (libsql://, https://) never loads it.
    b.onLoad({ filter: /[\\/]@libsql[\\/]client[\\/]lib-esm[\\/]sqlite3\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      const eager = 'import Database from "libsql";';
      if (!source.includes(eager))
        throw new Error(`${args.path} no longer imports libsql as expected`);
      const lazy = `let __libsql;
const __loadLibsql = () => (__libsql ??= require("libsql"));
const Database = new Proxy(function Database() {}, {
  construct: (_, args) => new (__loadLibsql())(...args),
  get: (_, key) => __loadLibsql()[key],
});`;
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
    // Node's libSQL client maps libsql:// to HTTP; only explicit ws:// or wss:// URLs need a
    // WebSocket. The web build of this shim uses the runtime's global WebSocket (Node 22+, Deno,
    // Bun) instead of bundling the `ws` package.
    b.onResolve({ filter: /^@libsql\/isomorphic-ws$/ }, () => ({
      path: join(ROOT, "node_modules", "@libsql", "isomorphic-ws", "web.mjs"),
    }));
  },
};

// CommonJS dependencies (ioredis, pino) call require() and read __dirname inside an ES module.
const BANNER = [
  'import { createRequire as __createRequire } from "node:module";',
  'import { fileURLToPath as __fileURLToPath } from "node:url";',
  'import { dirname as __pathDirname } from "node:path";',
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __pathDirname(__filename);",
].join("\n");

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function installedVersion(pkg: string): string {
  const json = JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8"));
  return String(json.version);
}

async function bundleOne(host: Host, route: FunctionRoute, outdir: string): Promise<Bundle> {
  const dir =
    host === "vercel" ? vercelFunctionDir(outdir, route.name) : join(outdir, host, route.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "index.mjs");
  const result = await build({
    stdin: {
      contents: entrySource(host, route),
      resolveDir: ROOT,
      loader: "ts",
      sourcefile: `${host}-${route.name}.ts`,
    },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile: file,
    minify: true,
    legalComments: "none",
    external: EXTERNAL,
    plugins: [inlineLua, trimDependencies],
    banner: { js: BANNER },
    footer: { js: footer(host, route) },
    metafile: true,
    logLevel: "error",
  });
  const output =
    result.metafile.outputs[relative(process.cwd(), file)] ??
    Object.values(result.metafile.outputs)[0];
  const imported = new Set(
    (output?.imports ?? [])
      .filter((i) => i.external && !builtins.has(i.path))
      .map((i) =>
        (i.path.startsWith("@")
          ? i.path.split("/").slice(0, 2)
          : i.path.split("/").slice(0, 1)
        ).join("/"),
      ),
  );
  // `ws` requires these inside try/catch: optional, never installed.
  imported.delete("bufferutil");
  imported.delete("utf-8-validate");
  const dependencies = Object.fromEntries(
    [...imported].sort().map((p) => [p, installedVersion(p)]),
  );
  writeJson(join(dir, "package.json"), {
    name: `votes-${route.name.toLowerCase()}-${host}`,
    private: true,
    type: "module",
    main: "index.mjs",
    engines: { node: ">=20" },
    dependencies,
  });
  if (host === "vercel") {
    writeJson(join(dir, ".vc-config.json"), {
      runtime: NODE_RUNTIME,
      handler: "index.mjs",
      launcherType: "Nodejs",
      shouldAddHelpers: false,
      supportsResponseStreaming: true,
    });
  }
  return { host, name: route.name, dir, file, bytes: output?.bytes ?? 0, dependencies };
}

/** Vercel's Build Output API: `.vercel/output/functions/<name>.func`, deployed with `vercel deploy --prebuilt`. */
function vercelFunctionDir(outdir: string, name: string): string {
  return join(outdir, "vercel", ".vercel", "output", "functions", `${name}.func`);
}

/** A path pattern (`/votes/:id`) as a Vercel route regex. */
const routeRegex = (path: string) => `^${path.replace(/:[A-Za-z]+/g, "([^/]+)")}/?$`;

function writeHostConfigs(outdir: string, hosts: readonly Host[]): void {
  if (hosts.includes("vercel")) {
    const base = join(outdir, "vercel");
    writeJson(join(base, ".vercel", "output", "config.json"), {
      version: 3,
      routes: functionRoutes.map((r) => ({
        src: routeRegex(r.path),
        methods: [...r.methods],
        dest: `/${r.name}`,
      })),
    });
    // The <host>/<name> layout, for people and for tests; Vercel reads .vercel/output.
    for (const r of functionRoutes) {
      symlinkSync(
        join(".vercel", "output", "functions", `${r.name}.func`),
        join(base, r.name),
        "dir",
      );
    }
  }
  if (hosts.includes("aws-lambda"))
    writeJson(join(outdir, "aws-lambda", "template.json"), samTemplate());
}

/** An AWS SAM template: the three functions behind one HTTP API (v2 events). */
function samTemplate() {
  const env = {
    REDIS_URL: { Ref: "RedisUrl" },
    REDIS_PREFIX: { Ref: "RedisPrefix" },
    DATABASE_URL: { Ref: "DatabaseUrl" },
    DATABASE_AUTH_TOKEN: { Ref: "DatabaseAuthToken" },
    VOTE_OPTIONS: { Ref: "VoteOptions" },
    MAX_QUEUE_LENGTH: { Ref: "MaxQueueLength" },
  };
  const resources: Record<string, unknown> = {};
  for (const r of functionRoutes) {
    const events: Record<string, unknown> = {};
    for (const method of r.methods.filter((m) => m !== "HEAD")) {
      events[`${method[0]}${method.slice(1).toLowerCase()}`] = {
        Type: "HttpApi",
        Properties: { Path: r.path.replace(/:([A-Za-z]+)/g, "{$1}"), Method: method },
      };
    }
    resources[r.name[0]?.toUpperCase() + r.name.slice(1)] = {
      Type: "AWS::Serverless::Function",
      Properties: { CodeUri: `${r.name}/`, Handler: "index.handler", Events: events },
    };
  }
  const param = (Default: string, extra: Record<string, unknown> = {}) => ({
    Type: "String",
    Default,
    ...extra,
  });
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Transform: "AWS::Serverless-2016-10-31",
    Description: "single-writer-votes functions (the writer runs elsewhere, long-lived)",
    Parameters: {
      RedisUrl: {
        Type: "String",
        NoEcho: true,
        Description: "rediss://default:<password>@<host>:6379",
      },
      RedisPrefix: param("votes"),
      DatabaseUrl: { Type: "String", Description: "libsql://<db>.turso.io or https://<sqld host>" },
      DatabaseAuthToken: param("", { NoEcho: true }),
      VoteOptions: param(""),
      MaxQueueLength: param("1000000"),
    },
    Globals: {
      Function: {
        Runtime: NODE_RUNTIME,
        Architectures: ["x86_64"],
        MemorySize: 512,
        Timeout: 10,
        Environment: { Variables: env },
      },
    },
    Resources: resources,
    Outputs: {
      ApiUrl: {
        Value: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation substitution
          "Fn::Sub": "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.amazonaws.com",
        },
      },
    },
  };
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Removes what an earlier build wrote for a host, and only that: the links and settings a host's
 * CLI keeps beside it (`.vercel/project.json`, `samconfig.toml`) survive a rebuild.
 */
function removeOutput(hostDir: string): void {
  const generated = [
    ...functionRoutes.map((r) => r.name),
    join(".vercel", "output"),
    "template.json",
  ];
  for (const path of generated) rmSync(join(hostDir, path), { recursive: true, force: true });
}

/** Builds every bundle (and host config) into `outdir`, replacing what an earlier build wrote. */
export async function buildFunctions(
  options: { outdir?: string; hosts?: readonly Host[] } = {},
): Promise<Bundle[]> {
  const outdir = resolve(options.outdir ?? DEFAULT_OUTDIR);
  const hosts = options.hosts ?? HOSTS;
  for (const host of hosts) removeOutput(join(outdir, host));
  const bundles = await Promise.all(
    hosts.flatMap((host) => functionRoutes.map((route) => bundleOne(host, route, outdir))),
  );
  writeHostConfigs(outdir, hosts);
  return bundles;
}

/** `npm install --omit=dev` in each bundle folder; `npmFlags` such as `--os=linux --cpu=x64`. */
export function installBundleDependencies(
  bundles: readonly Bundle[],
  npmFlags: string[] = [],
): void {
  for (const b of bundles) {
    const result = spawnSync(
      "npm",
      ["install", "--omit=dev", "--no-audit", "--no-fund", "--no-package-lock", ...npmFlags],
      { cwd: b.dir, stdio: ["ignore", "ignore", "inherit"] },
    );
    if (result.status !== 0) throw new Error(`npm install failed in ${b.dir}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const hostArg = args.find((a) => a.startsWith("--host="))?.slice("--host=".length);
  if (hostArg && !HOSTS.includes(hostArg as Host)) {
    process.stderr.write(`--host must be one of ${HOSTS.join(", ")}\n`);
    process.exit(1);
  }
  const bundles = await buildFunctions(hostArg ? { hosts: [hostArg as Host] } : {});
  const rows = bundles.map((b) => {
    const shown = b.host === "vercel" ? join(dirname(b.dir), "..", "..", "..", b.name) : b.dir;
    const deps = Object.keys(b.dependencies).join(", ") || "none";
    return `${(b.bytes / 1024).toFixed(1).padStart(7)} KB  ${relative(process.cwd(), join(shown, "index.mjs")).padEnd(48)} external: ${deps}`;
  });
  process.stdout.write(`${rows.join("\n")}\n`);
  if (args.includes("--install")) {
    installBundleDependencies(
      bundles,
      args.filter((a) => /^--(os|cpu|libc)=/.test(a)),
    );
    process.stdout.write("installed each folder's dependencies: upload the folders as they are\n");
  } else {
    process.stdout.write(
      "upload a folder after `npm install --omit=dev` in it (or build with --install); see Deploying in README.md\n",
    );
  }
}
