/**
 * The service's one error type and its one renderer: every failure a client sees is an
 * `application/problem+json` body (RFC 9457) with `type`, `title`, `status` and `detail`.
 */

/** Titles by status; the OpenAPI schemas (lib/apiSchemas.ts) document the same ones. */
export const PROBLEM_TITLES = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  500: "Internal Server Error",
  503: "Service Unavailable",
} as const;

export type ProblemStatus = keyof typeof PROBLEM_TITLES;

/** The `type` URI of a problem with this reason. */
export const problemType = (reason: string) => `urn:votes:problem:${reason}`;

export interface ProblemOptions {
  /** A short machine-readable reason, used in `type` and in metrics labels. */
  reason: string;
  /** Extra response headers, such as `Allow` or `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An HTTP error a handler throws; {@link problemResponse} turns it into a response. */
export class HttpProblem extends Error {
  override name = "HttpProblem";
  readonly status: number;
  readonly reason: string;
  readonly headers: Record<string, string>;

  constructor(status: number, detail: string, options: ProblemOptions) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.reason = options.reason;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (reason: string, detail: string) =>
  new HttpProblem(400, detail, { reason });
export const notFound = (detail = "No such resource.") =>
  new HttpProblem(404, detail, { reason: "not-found" });
export const methodNotAllowed = (allow: readonly string[]) =>
  new HttpProblem(405, `Use ${allow.join(" or ")} on this resource.`, {
    reason: "method-not-allowed",
    headers: { Allow: allow.join(", ") },
  });
export const unavailable = (
  reason: string,
  detail: string,
  retryAfterSeconds = 1,
  cause?: unknown,
) =>
  new HttpProblem(503, detail, {
    reason,
    headers: { "Retry-After": String(retryAfterSeconds) },
    cause,
  });

/** Renders any thrown value as problem+json; unknown errors become a bare 500, never a stack. */
export function problemResponse(error: unknown, headers: Record<string, string> = {}): Response {
  const problem =
    error instanceof HttpProblem
      ? error
      : new HttpProblem(500, "The server failed to handle this request; it has been logged.", {
          reason: "internal",
        });
  const body = {
    type: problemType(problem.reason),
    title: PROBLEM_TITLES[problem.status as ProblemStatus] ?? "Error",
    status: problem.status,
    detail: problem.message,
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      "Content-Type": "application/problem+json",
      "Cache-Control": "no-store",
      ...problem.headers,
      ...headers,
    },
  });
}
