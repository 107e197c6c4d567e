import { describe, expect, it } from "vitest";
import { HttpProblem } from "./problem.js";
import {
  parseVoteBody,
  parseVoteId,
  readIdempotencyKey,
  requireJson,
  validateOption,
} from "./validation.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const statusOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    if (error instanceof HttpProblem) return error.status;
    throw error;
  }
  return "ok";
};

describe("parseVoteBody", () => {
  it("returns the option, NFC-normalised", () => {
    expect(parseVoteBody(bytes('{"option":"option1"}'), undefined)).toBe("option1");
    expect(parseVoteBody(bytes('{"option":"e\\u0301"}'), undefined)).toBe("\u00e9");
  });

  it.each([
    ["not json", "{option"],
    ["empty body", ""],
    ["invalid UTF-8", "\xff"],
    ["an array", '["option1"]'],
    ["a string", '"option1"'],
    ["null", "null"],
    ["no option", "{}"],
    ["a number option", '{"option":1}'],
    ["a null option", '{"option":null}'],
    ["an object option", '{"option":{"a":1}}'],
  ])("answers 400 for %s", (_, body) => {
    const raw = body === "\xff" ? new Uint8Array([0xff]) : bytes(body);
    expect(statusOf(() => parseVoteBody(raw, undefined))).toBe(400);
  });

  it.each([
    ["an empty option", '{"option":""}'],
    ["65 characters", JSON.stringify({ option: "x".repeat(65) })],
    ["a control character", '{"option":"a\\u0000b"}'],
    ["a newline", '{"option":"a\\nb"}'],
    ["a lone surrogate", '{"option":"\\ud800"}'],
  ])("answers 422 for %s", (_, body) => {
    expect(statusOf(() => parseVoteBody(bytes(body), undefined))).toBe(422);
  });

  it("counts characters, not UTF-16 units or bytes", () => {
    expect(validateOption("😀".repeat(64), undefined)).toBe("😀".repeat(64));
    expect(statusOf(() => validateOption("😀".repeat(65), undefined))).toBe(422);
  });

  it("applies the allow-list after normalisation", () => {
    const allowed = new Set(["café", "tea"]);
    expect(validateOption("cafe\u0301", allowed)).toBe("café");
    expect(statusOf(() => validateOption("coffee", allowed))).toBe(422);
  });
});

describe("parseVoteId", () => {
  it("accepts 1 to 2^53-1", () => {
    expect(parseVoteId("1")).toBe(1);
    expect(parseVoteId("9007199254740991")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    "0",
    "00",
    "-1",
    "1.5",
    "1e3",
    "abc",
    "",
    " 1",
    "0x10",
    "9007199254740992",
    "123456789012345678901",
  ])("answers 400 for %j", (segment) => {
    expect(statusOf(() => parseVoteId(segment))).toBe(400);
  });
});

describe("headers", () => {
  const request = (headers: Record<string, string>) =>
    new Request("http://x/votes", { method: "POST", headers });

  it("requires application/json in UTF-8", () => {
    expect(statusOf(() => requireJson(request({ "content-type": "application/json" })))).toBe("ok");
    expect(
      statusOf(() => requireJson(request({ "content-type": "application/json; charset=UTF-8" }))),
    ).toBe("ok");
    expect(statusOf(() => requireJson(request({ "content-type": "text/plain" })))).toBe(415);
    expect(
      statusOf(() => requireJson(request({ "content-type": "application/json; charset=latin1" }))),
    ).toBe(415);
    expect(statusOf(() => requireJson(request({})))).toBe(415);
  });

  it("reads an Idempotency-Key of 1-255 visible ASCII characters", () => {
    expect(readIdempotencyKey(request({}))).toBeUndefined();
    expect(readIdempotencyKey(request({ "idempotency-key": "abc-123" }))).toBe("abc-123");
    expect(statusOf(() => readIdempotencyKey(request({ "idempotency-key": "a b" })))).toBe(400);
    expect(
      statusOf(() => readIdempotencyKey(request({ "idempotency-key": "x".repeat(256) }))),
    ).toBe(400);
  });
});
