/**
 * The functions as a FaaS host deploys them: one entry each, with the path and methods a host's
 * router sends to it. The build, the host configs it writes and the OpenAPI paths use this table.
 */
export interface FunctionRoute {
  /** Bundle folder and export name in `functions/<name>.ts`. */
  name: "submitVote" | "getTotals" | "getVote";
  /** Path in the host's pattern syntax (`:id` for a segment). */
  path: string;
  methods: readonly string[];
}

export const functionRoutes: readonly FunctionRoute[] = [
  { name: "submitVote", path: "/votes", methods: ["POST"] },
  { name: "getTotals", path: "/votes", methods: ["GET", "HEAD"] },
  { name: "getVote", path: "/votes/:id", methods: ["GET", "HEAD"] },
];
