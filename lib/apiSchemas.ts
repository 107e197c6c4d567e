/**
 * The API's bodies as zod schemas: what a client sends (lib/validation.ts parses votes with
 * these) and what the service answers. lib/openapi.ts turns the same schemas into openapi.json.
 */

import * as z from "zod";
import { PROBLEM_TITLES, type ProblemStatus, problemType } from "./problem.js";

/** Longest option, in Unicode code points after NFC normalisation. */
export const MAX_OPTION_LENGTH = 64;
const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /[\ud800-\udfff]/;
const PAIR = /[\ud800-\udbff][\udc00-\udfff]/g;

/**
 * An option: normalised to NFC, then the rules, checked in this order; the first failure's
 * message is the 422 detail. JSON Schema counts length in code points too, like the rule.
 */
export const optionRules = z
  .string()
  .overwrite((option) => option.normalize("NFC"))
  .refine(
    (option) => {
      const length = [...option].length;
      return length >= 1 && length <= MAX_OPTION_LENGTH;
    },
    { message: `"option" must be 1 to ${MAX_OPTION_LENGTH} characters long.` },
  )
  .refine((option) => !CONTROL.test(option), {
    message: '"option" must not contain control characters.',
  })
  .refine((option) => !LONE_SURROGATE.test(option.replace(PAIR, "")), {
    message: '"option" must not contain unpaired surrogates.',
  })
  .meta({
    minLength: 1,
    maxLength: MAX_OPTION_LENGTH,
    pattern: "^\\P{Cc}*$",
    description:
      "1 to 64 characters (code points) after Unicode NFC normalisation, no control characters; stored and answered in NFC. When the service sets VOTE_OPTIONS, one of those.",
    examples: ["option1"],
  });

/**
 * The body of `POST /votes`. lib/validation.ts answers 400 for a failure of the shape (not an
 * object, `option` missing or not a string) and 422 for a failure of {@link optionRules}.
 */
export const voteRequest = z.looseObject({ option: optionRules }).meta({
  id: "VoteRequest",
  description: "Other fields are ignored.",
  examples: [{ option: "option1" }],
});

export const vote = z
  .strictObject({
    id: z
      .int()
      .min(1)
      .max(Number.MAX_SAFE_INTEGER)
      .meta({
        description: "Unique, never reused; the vote's URL is /votes/{id}.",
        examples: [123],
      }),
    option: z.string().meta({ examples: ["option1"] }),
    created_at: z.iso.datetime({ precision: 3 }).meta({
      description: "Set by the server: RFC 3339, UTC, milliseconds.",
      examples: ["2024-03-20T15:04:05.123Z"],
    }),
    status: z.enum(["queued", "recorded"]).meta({
      description: "`queued` while accepted but not yet written to SQLite, then `recorded`.",
    }),
  })
  .meta({ id: "Vote" });

export const totals = z.record(z.string(), z.int().min(0)).meta({
  id: "Totals",
  description: "Votes already written to SQLite, per option.",
  examples: [{ option1: 42, option2: 28 }],
});

const checkResult = z.string().meta({ description: '"ok", or what is wrong' });
export const readinessChecks = z.strictObject({
  redis: checkResult,
  database: checkResult,
  queue: checkResult,
});

export const ready = z
  .strictObject({ status: z.literal("ready"), checks: readinessChecks })
  .meta({ id: "Ready" });

export const health = z.strictObject({ status: z.literal("ok") }).meta({ id: "Health" });

/** An `application/problem+json` body (RFC 9457) of one status, with the reasons it can carry. */
export function problem(status: ProblemStatus, reasons: readonly [string, ...string[]]) {
  return z.strictObject({
    type: z.enum(reasons.map(problemType) as [string, ...string[]]),
    title: z.literal(PROBLEM_TITLES[status]),
    status: z.literal(status),
    detail: z.string().meta({ description: "For people: what went wrong and what to do." }),
  });
}

/** `/readyz` when not ready: the problem, plus which checks failed. */
export const notReady = problem(503, ["not-ready"]).extend({ checks: readinessChecks });
