import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { API_NODE_FLAGS } from "./nodeFlags.js";

const root = new URL("../", import.meta.url);

describe("the API's V8 flags", () => {
  it("are the same in npm run local and in the PM2 file as in lib/nodeFlags.ts", () => {
    const scripts = JSON.parse(readFileSync(new URL("package.json", root), "utf8")).scripts;
    const local = (scripts.local as string).split(" ").filter((word) => word.startsWith("--"));
    expect(local.filter((flag) => flag !== "--import")).toEqual([...API_NODE_FLAGS]);

    const { apps } = createRequire(import.meta.url)("../ecosystem.config.cjs") as {
      apps: { name: string; args: string[] }[];
    };
    const api = apps.find((app) => app.name === "api");
    expect(api?.args.filter((arg) => arg.startsWith("--") && arg !== "--import")).toEqual([
      ...API_NODE_FLAGS,
    ]);
  });
});
