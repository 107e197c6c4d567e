import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lastPathSegment } from "./http.js";

const byParsing = (url: string) => new URL(url).pathname.split("/").filter(Boolean).pop() ?? "";

describe("lastPathSegment", () => {
  it.each([
    ["http://h/votes/123", "123"],
    ["http://h/votes/123/", "123"],
    ["http://h/votes/123?x=/4", "123"],
    ["http://h/votes/123#/4", "123"],
    ["http://h:8080/", ""],
    ["http://h", ""],
    ["http://h?a/b", ""],
    ["http://h/votes/5/.", "5"],
    ["http://h/votes/x/../7", "7"],
    ["http://h/votes/%31", "%31"],
  ])("%s → %j", (url, segment) => {
    expect(lastPathSegment(url)).toBe(segment);
    expect(byParsing(url)).toBe(segment);
  });

  it("agrees with new URL() on arbitrary paths, queries and fragments", () => {
    const part = fc.stringMatching(/^[a-z0-9/._%?#\\ -]{0,24}$/);
    fc.assert(
      fc.property(part, (tail) => {
        const url = `http://127.0.0.1:8080/${tail}`;
        expect(lastPathSegment(url)).toBe(byParsing(url));
      }),
      { numRuns: 2000 },
    );
  });
});
