/**
 * The browsable API docs: Swagger UI on /openapi.json. Its assets come from the swagger-ui-dist
 * package and are served by the API itself, so the page works offline (no CDN).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { notFound, problemResponse } from "./problem.js";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>single-writer-votes API</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true });
  </script>
</body>
</html>
`;

/** `GET /docs`. */
export const docsPage = () =>
  new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });

let folder: string | undefined;
const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

/** `GET /docs/<asset>`: one of Swagger UI's files, read once and kept in memory. */
export async function docsAsset(name: string): Promise<Response> {
  const type = ASSETS[name];
  if (!type) return problemResponse(notFound(`There is no ${name} here; the docs are at /docs.`));
  folder ??= createRequire(import.meta.url)("swagger-ui-dist/absolute-path.js")() as string;
  let body = cache.get(name);
  if (!body) {
    body = readFile(join(folder, name)).then((bytes) => new Uint8Array(bytes));
    cache.set(name, body);
    body.catch(() => cache.delete(name));
  }
  return new Response(await body, {
    headers: { "Content-Type": type, "Cache-Control": "public, max-age=86400" },
  });
}
