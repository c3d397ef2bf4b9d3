// Types of `iproov-sansio/testing` (require and import): the emulator helper for your tests.

/** A service provider of the emulator: what your backend configures for iProov. */
export interface Credentials {
  readonly name: string;
  /** eu, us, sg, au, jkt or latam */
  readonly region: string;
  readonly apiKey: string;
  readonly secret: string;
  readonly oauth: { readonly username: string; readonly password: string };
}

/** What the user's device reports when the capture finishes. */
export interface ClaimResult {
  passed?: boolean;
  /** A failure reason such as 'too_much_movement' (with passed: false). */
  reason?: string;
  /** true: a built-in 1x1 PNG; a string: base64 image bytes. */
  frame?: boolean | string;
  signals?: Record<string, unknown>;
  return_frame_quality?: Record<string, unknown>;
}

/** A fault rule: the emulator's JSON (tests/emulator/README.md, "Fault rules"). */
export interface FaultRule {
  /** Matched against the end of the request path, e.g. '/claim/enrol/token'. */
  path: string;
  /** Answer with this HTTP status instead of running the handler. */
  status?: number;
  /** Close the connection with a TCP reset instead of answering. */
  reset?: boolean;
  /** Wait this many milliseconds first; alone, it only slows the request down. */
  delay_ms?: number;
  /** How many matching requests the rule applies to (default 1). */
  times?: number;
  /** Keep the request waiting, before the rest, until releaseHeld(), a reset or `hold_ms`. */
  hold?: boolean;
  /** The longest a hold lasts, in milliseconds (default and maximum 60000). */
  hold_ms?: number;
  method?: string;
  region?: string;
  json?: unknown;
  headers?: Record<string, string>;
  after_handler?: boolean;
  kind?: 'status' | 'delay' | 'reset' | 'cut';
  [field: string]: unknown;
}

export interface Preset {
  name: string;
  description: string;
  options: Record<string, unknown>;
}

export interface Clock {
  /** RFC 3339 time on the emulator clock. */
  now: string;
  /** Epoch milliseconds. */
  now_ms: number;
  /** Seconds advanced so far. */
  offset_secs: number;
}

/** One request of the emulator's journal (tests/emulator/README.md, "The request journal"). */
export interface JournalEntry {
  /** Counts requests from 1, across resets: pass one as requests({ since }). */
  seq: number;
  /** RFC 3339 time on the emulator clock, and epoch milliseconds. */
  at: string;
  at_ms: number;
  method: string;
  /** The full path as received, credentials masked: /eu/api/v2/claim/enrol/validate. */
  path: string;
  query?: string;
  /** eu, us, sg, au, jkt, latam; null outside the regions' prefixes. */
  region: string | null;
  /** The configured service provider whose api_key or access token the request carried. */
  service_provider?: string;
  /** Lowercase names; a repeated header's values joined with ', '; credentials '***'. */
  headers: Record<string, string>;
  /** The body's length as received. */
  body_bytes: number;
  /** Some of the body is not shown (a large one: an excerpt). */
  body_truncated: boolean;
  /** A body that parses as JSON, credentials '***', claim tokens kept. */
  json?: unknown;
  /** A form body: name -> value (a repeated name: its values). */
  form?: Record<string, string | string[]>;
  /** Multipart parts: a short text part's value, a file's length and SHA-256. */
  multipart?: Array<{ name: string; filename?: string; content_type?: string; bytes: number; value?: string; sha256?: string }>;
  /** Anything else, up to 1 KiB. */
  text?: string;
}

export declare class EmulatorError extends Error {
  /** binary_not_found, start_failed, unreachable, real_iproov, or the emulator's error code (unknown_claim, invalid_request, ...). */
  readonly code: string;
  readonly description: string;
  /** The HTTP status of a refused control call. */
  readonly status?: number;
  readonly method?: string;
  readonly path?: string;
  /** The emulator's last stderr output, when the process failed. */
  readonly stderr?: string;
}

export declare class Emulator {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The emulator's last stderr output. */
  readonly stderr: string;
  /** http://127.0.0.1:PORT/{region}/api/v2 (default region 'eu'): the client's baseUrl. */
  baseUrl(region?: string): string;
  serviceProviders(): Promise<Credentials[]>;
  /** The service provider called `name`, else the region's first (built-in: eu-default, us-default). */
  credentials(region?: string, options?: { name?: string }): Promise<Credentials>;
  /** Finishes a claim's capture (default { passed: true }); resolves the claim. */
  completeClaim(token: string, result?: ClaimResult): Promise<Record<string, unknown>>;
  addUser(userId: string, options?: { status?: 'Active' | 'Inactive' | 'Suspended' | 'Deleted'; apiKey?: string }): Promise<Record<string, unknown>>;
  /** Resolves the rule's id. */
  injectFault(rule: FaultRule): Promise<number>;
  /** Drops the rules not used up, and lets held requests go on. */
  clearFaults(): Promise<void>;
  /** Requests a `hold: true` fault keeps waiting now. */
  heldCount(): Promise<number>;
  /** Lets every held request go on; resolves how many were held. */
  releaseHeld(): Promise<number>;
  /** Token requests per second before 429; null lifts the limit. */
  setRateLimit(perSecond: number | null, options?: { apiKey?: string }): Promise<void>;
  markDown(): Promise<void>;
  markUp(): Promise<void>;
  /** Whole seconds. */
  advanceClock(seconds: number): Promise<Clock>;
  requestCount(path?: string, options?: { method?: string }): Promise<number>;
  /** The request journal, oldest first: path suffix, method, after the seq `since`. */
  requests(filter?: { path?: string; method?: string; since?: number }): Promise<JournalEntry[]>;
  /** The seq of the newest request so far (0 before any). */
  journalMark(): Promise<number>;
  presets(): Promise<Preset[]>;
  /** Options are the emulator's JSON: reason, retry_after_secs, delay_ms, api_key. */
  loadPreset(name: string, options?: Record<string, unknown>): Promise<{ preset: string } & Record<string, unknown>>;
  reset(): Promise<void>;
  control(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The binary's path (default: $IPROOV_EMULATOR_BIN, else the iproov-emulator package's). */
  binary?: string;
  /** An emulator configuration (tests/emulator/README.md) instead of the built-in one. */
  config?: Record<string, unknown>;
  args?: string[];
  /** Milliseconds to wait for the emulator to listen (default 30000). */
  timeoutMs?: number;
  /** Start (and reset) while IPROOV_REGION/IPROOV_BASE_URL point at a real iProov region: a suite meant to call iProov. */
  allowLive?: boolean;
}

export declare function startEmulator(options?: StartOptions): Promise<Emulator>;
/** The binary startEmulator would run; throws EmulatorError binary_not_found. */
export declare function findBinary(): string;
/** Why `env` (default process.env) points at a real iProov region (IPROOV_REGION, or IPROOV_BASE_URL on iproov.me/iproov.com), or null. */
export declare function realIproovTarget(env?: Record<string, string | undefined>): string | null;
