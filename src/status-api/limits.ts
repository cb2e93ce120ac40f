/**
 * Every bound of the status API and the metrics endpoint, in one place so docs/operations.md can
 * list them and a test can hold them. An HTTP surface with no bound is how a monitor dies on the
 * worst day: 4,000 idle sockets, a dashboard left open in every tab, a script asking for everything.
 */
export const HTTP_LIMITS = {
  /** Open connections at once; the kernel's backlog holds the rest, Node drops what is over. */
  maxConnections: 256,
  /** A client must send its request headers within this time (slowloris). */
  headersTimeoutMs: 10_000,
  /** …and the whole request within this time. */
  requestTimeoutMs: 15_000,
  /** An idle keep-alive connection is closed after this time. */
  keepAliveTimeoutMs: 5_000,
  /** A socket with no traffic at all is closed after this; longer than the longest long poll. */
  idleSocketTimeoutMs: 45_000,
  /** At most this many requests on one keep-alive connection. */
  maxRequestsPerSocket: 1_000,
} as const;

export const API_LIMITS = {
  /** `/api/events?wait=`: the longest a long poll is held, ms. */
  maxWaitMs: 30_000,
  /** Long polls held at once; more are answered 429 at once (the dashboard retries). */
  maxLongPolls: 64,
  /** `/api/history?limit=`: default and maximum entries per answer. */
  historyDefaultLimit: 1_000,
  historyMaxLimit: 10_000,
  /** `/api/hosts?limit=`: default and maximum hosts per page. */
  hostsDefaultLimit: 100,
  hostsMaxLimit: 1_000,
  /** `/api/status` lists at most this many hosts (the not-up ones first); the rest by /api/hosts. */
  statusMaxHosts: 500,
  /** Longest accepted query string, bytes. */
  maxQueryBytes: 2_048,
} as const;
