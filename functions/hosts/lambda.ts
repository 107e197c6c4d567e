/**
 * AWS Lambda: API Gateway (HTTP API v2 and REST v1 events), function URLs and ALB, through
 * `hono/aws-lambda`, which turns each event into a Web Request and the Response back.
 */
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import type { Handler } from "../../lib/http.js";

export const toLambda = (handler: Handler) =>
  handle(new Hono().all("*", (c) => handler(c.req.raw)));
