// Runs in a clean `node` (no tsx, no loaders, no devDependencies on the path): imports a built
// bundle and calls it the way its host does. Requests come over IPC from host.test.ts.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const toRequest = ({ method, url, headers, body }) =>
  new Request(url, { method, headers, ...(body === undefined ? {} : { body }) });

async function fromResponse(response) {
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.text(),
  };
}

const lambdaContext = (name) => ({
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
  functionName: name,
  functionVersion: "$LATEST",
  memoryLimitInMB: "512",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
});

async function call({ bundle, kind, input }) {
  switch (kind) {
    case "environment": {
      const require = createRequire(pathToFileURL(bundle));
      const resolvable = (name) => {
        try {
          require.resolve(name);
          return true;
        } catch {
          return false;
        }
      };
      return {
        execArgv: process.execArgv,
        nodeOptions: process.env.NODE_OPTIONS ?? null,
        resolvable: Object.fromEntries(
          ["libsql", "ioredis", "hono", "zod", "tsx", "vitest", "esbuild"].map((n) => [
            n,
            resolvable(n),
          ]),
        ),
      };
    }
    case "exports": {
      const mod = await import(pathToFileURL(bundle).href);
      return {
        names: Object.keys(mod).sort(),
        defaultType: typeof mod.default,
        defaultFetch: typeof mod.default?.fetch,
        handlerType: typeof mod.handler,
        config: mod.config ?? null,
      };
    }
    case "web": {
      const mod = await import(pathToFileURL(bundle).href);
      return fromResponse(await mod.default(toRequest(input), { site: {}, geo: {} }));
    }
    case "fetch": {
      const mod = await import(pathToFileURL(bundle).href);
      return fromResponse(await mod.default.fetch(toRequest(input)));
    }
    case "lambda": {
      const mod = await import(pathToFileURL(bundle).href);
      return mod.handler(input, lambdaContext("votes"));
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

process.on("message", (message) => {
  call(message).then(
    (result) => process.send({ id: message.id, ok: true, result }),
    (error) => process.send({ id: message.id, ok: false, error: String(error?.stack ?? error) }),
  );
});
process.send({ ready: true });
