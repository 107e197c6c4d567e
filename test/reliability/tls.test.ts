/**
 * rediss:// against a real redis-server with TLS (Debian's build has it) and a certificate
 * signed by a CA made for this test. The CA is trusted through REDIS_TLS_CA_FILE (parsed in
 * lib/config.ts, applied in lib/redis.ts) or, for child processes, through Node's own
 * NODE_EXTRA_CA_CERTS. An untrusted certificate is refused: 503, not a hang and not a 202.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../../lib/config.js";
import { ServiceProcess } from "../../scripts/chaos/process.js";
import {
  childEnv,
  eventually,
  migratedDatabase,
  startWriter,
  testConfig,
} from "../support/fixtures.js";
import { freePort, RedisServer } from "../support/redisServer.js";
import { post, sqliteVotes, startApi } from "./helpers.js";

// Waits are bounds, not targets: generous, for a machine busy with other suites.
vi.setConfig({ testTimeout: 60_000 });

const certs = mkdtempSync(join(tmpdir(), "votes-tls-"));
const file = (name: string) => join(certs, name);
let redis: RedisServer;
let tlsUrl: string;

function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.pem"),
    "-days",
    "1",
    "-subj",
    "/CN=votes test CA",
  );
  openssl(
    "req",
    ...ec,
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.pem"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.pem"),
    "-days",
    "1",
    "-extfile",
    file("san.ext"),
  );
}

beforeAll(async () => {
  makeCertificates();
  const tlsPort = await freePort();
  redis = await new RedisServer({
    args: [
      "--tls-port",
      String(tlsPort),
      "--tls-cert-file",
      file("server.pem"),
      "--tls-key-file",
      file("server.key"),
      "--tls-ca-cert-file",
      file("ca.pem"),
      "--tls-auth-clients",
      "no",
    ],
  }).start();
  tlsUrl = `rediss://127.0.0.1:${tlsPort}`;
});

afterAll(async () => {
  await redis?.destroy();
  rmSync(certs, { recursive: true, force: true });
});

describe("rediss://", () => {
  it("serves votes over TLS with the CA from REDIS_TLS_CA_FILE", async () => {
    const config = testConfig({
      REDIS_URL: tlsUrl,
      REDIS_TLS_CA_FILE: file("ca.pem"),
      DATABASE_URL: await migratedDatabase(),
    });
    expect(config.redis.tlsCa).toContain("BEGIN CERTIFICATE");
    const api = await startApi(config);
    const writer = await startWriter(config);
    try {
      let id = 0;
      await eventually(async () => {
        const answer = await post(api.url, "tls");
        if (answer.status === 202) id = (await answer.json()).id;
        return id > 0;
      });
      await eventually(async () => (await sqliteVotes(config.database.url)).length === 1, 20_000);
      expect((await sqliteVotes(config.database.url))[0]).toMatchObject({ id, option: "tls" });
      const totals = await fetch(`${api.url}/votes`);
      expect(totals.headers.get("X-Totals-Source")).toBe("redis");
      expect(await totals.json()).toEqual({ tls: 1 });
      // Every connection of the service came in on the TLS port, none on the plain one.
      const plain = redis.client();
      const clients = String(await plain.client("LIST"))
        .split("\n")
        .filter((l) => /name=votes-/.test(l));
      plain.disconnect();
      expect(clients.length).toBeGreaterThan(0);
      for (const line of clients)
        expect(line).toContain(`laddr=127.0.0.1:${new URL(tlsUrl).port} `);
    } finally {
      await writer.stop();
      await api.close();
    }
  });

  it("refuses a server whose certificate it cannot verify: a quick 503, never a 202", async () => {
    const config = testConfig({ REDIS_URL: tlsUrl, DATABASE_URL: await migratedDatabase() });
    const api = await startApi(config);
    try {
      const answer = await post(api.url, "untrusted");
      expect(answer.status).toBe(503);
      expect((await answer.json()).type).toBe("urn:votes:problem:redis-unavailable");
    } finally {
      await api.close();
    }
  });

  it("runs the API and the writer as processes over TLS (REDIS_TLS_CA_FILE and NODE_EXTRA_CA_CERTS)", async () => {
    const config = testConfig({ REDIS_URL: tlsUrl, DATABASE_URL: await migratedDatabase() });
    const port = await freePort();
    const apiProcess = new ServiceProcess(
      "api",
      "local.ts",
      childEnv(config, { PORT: String(port), REDIS_TLS_CA_FILE: file("ca.pem") }),
    );
    const writerProcess = new ServiceProcess(
      "writer",
      "writer/main.ts",
      childEnv(config, { NODE_EXTRA_CA_CERTS: file("ca.pem") }),
    );
    try {
      const url = `http://127.0.0.1:${port}`;
      let id = 0;
      await eventually(
        async () => {
          const answer = await post(url, "child").catch(() => undefined);
          if (answer?.status === 202) id = (await answer.json()).id;
          return id > 0;
        },
        20_000,
        `a 202 from the API process (api: ${apiProcess.tail()} writer: ${writerProcess.tail()})`,
      );
      await eventually(async () => (await sqliteVotes(config.database.url)).length === 1, 20_000);
      expect((await sqliteVotes(config.database.url))[0]).toMatchObject({ id, option: "child" });
    } finally {
      await Promise.all([apiProcess.stop(), writerProcess.stop()]);
    }
  });

  it("fails at start, naming the variable, when REDIS_TLS_CA_FILE cannot be read", () => {
    expect(() => loadConfig({ REDIS_TLS_CA_FILE: file("missing.pem") })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_TLS_CA_FILE: file("missing.pem") })).toThrow(
      /^REDIS_TLS_CA_FILE /,
    );
    expect(() => loadConfig({ REDIS_TLS_CA_FILE: file("san.ext") })).toThrow(/not a PEM/);
  });
});
