/**
 * AWS Lambda events as the services send them (shapes from the AWS docs' samples): API Gateway
 * HTTP API (payload v2.0), a Lambda function URL (the same v2.0 shape, its own domain) and an
 * Application Load Balancer target (with or without multi-value headers).
 */

export interface EventRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A text body; sent base64-encoded when `base64` is set, as API Gateway does for binary types. */
  body?: string;
  base64?: boolean;
}

const encode = (r: EventRequest) =>
  r.body === undefined
    ? {}
    : {
        body: r.base64 ? Buffer.from(r.body).toString("base64") : r.body,
        isBase64Encoded: !!r.base64,
      };

function v2Event(r: EventRequest, domainName: string, routeKey: string) {
  const [rawPath, rawQueryString = ""] = r.path.split("?");
  const id = /^\/votes\/([^/]+)$/.exec(rawPath ?? "")?.[1];
  return {
    version: "2.0",
    routeKey,
    rawPath,
    rawQueryString,
    headers: {
      accept: "application/json",
      "content-length": r.body === undefined ? "0" : String(Buffer.byteLength(r.body)),
      host: domainName,
      "user-agent": "curl/8.5.0",
      "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...r.headers,
    },
    requestContext: {
      accountId: "123456789012",
      apiId: domainName.split(".")[0],
      domainName,
      domainPrefix: domainName.split(".")[0],
      http: {
        method: r.method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: "JKJaXmPLvHcESHA=",
      routeKey,
      stage: "$default",
      time: "03/Dec/2026:20:15:42 +0000",
      timeEpoch: 1796328942000,
    },
    ...(id ? { pathParameters: { id } } : {}),
    isBase64Encoded: false,
    ...encode(r),
  };
}

/** API Gateway HTTP API, payload format 2.0, on a route such as `POST /votes`. */
export function apiGatewayV2Event(r: EventRequest, route = `${r.method} ${r.path.split("?")[0]}`) {
  return v2Event(r, "r3pmxmplak.execute-api.us-east-1.amazonaws.com", route);
}

/** A Lambda function URL: v2.0 payload, route `$default`. */
export function functionUrlEvent(r: EventRequest) {
  return v2Event(r, "a1b2c3d4e5f6g7h8i9j0kxmpl.lambda-url.us-east-1.on.aws", "$default");
}

/** An ALB target group event; `multiValue` when the target group has multi-value headers on. */
export function albEvent(r: EventRequest, multiValue = false) {
  const [path, query = ""] = r.path.split("?");
  const headers: Record<string, string> = {
    accept: "application/json",
    host: "votes-alb-123456789.us-east-1.elb.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-amzn-trace-id": "Root=1-5bdb40ca-556d8b0c50dc66f0511bf520",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...(r.body === undefined ? {} : { "content-length": String(Buffer.byteLength(r.body)) }),
    ...r.headers,
  };
  const params = Object.fromEntries(new URLSearchParams(query));
  return {
    requestContext: {
      elb: {
        targetGroupArn:
          "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/votes/6d0ecf831eec9f09",
      },
    },
    httpMethod: r.method,
    path,
    ...(multiValue
      ? {
          multiValueQueryStringParameters: Object.fromEntries(
            Object.entries(params).map(([k, v]) => [k, [v]]),
          ),
          multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        }
      : { queryStringParameters: params, headers }),
    body: "",
    isBase64Encoded: false,
    ...encode(r),
  };
}
