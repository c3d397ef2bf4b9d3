// A typed usage sample (ESM), checked by `tsc --noEmit` (npm run typecheck); never run.
import api, {
  createClient,
  configFromEnv,
  toExpressMiddleware,
  iproovJourneys,
  type IproovJourneysOptions,
  useOpenTelemetry,
  stopOpenTelemetry,
  type Logger,
  Config,
  build,
  parse,
  Journey,
  RetryPolicy,
  TokenManager,
  auditRecord,
  randomUserId,
  IProovError,
  InvalidKeyError,
  OutcomeUnknownError,
  RateLimitedError,
  AbortedError,
  TransportError,
  type AccessToken,
  type ValidateResult,
  type ClaimToken,
  type Next,
  JourneyService,
  SQLiteStore,
  PostgresStore,
  FileSpool,
  LimitExceededError,
  StoreUnavailableError,
  type JourneyStore,
  type UserRecord,
  type JourneyRecord,
  type JourneyFinished,
  type JourneyForgotten,
  type AuditRecordJson,
  type ExitEvent,
  type ServicePolicy,
  type IProovOperations,
  ApiError,
  errorFromJSON,
  createJourneyHandler,
  toNodeHandler,
  type BrowserErrorCode,
} from 'iproov-sansio';
import { createServer } from 'node:http';

export async function sample(): Promise<void> {
  const client = createClient({ region: 'eu', apiKey: 'k', secret: 's', oauth: { username: 'u', password: 'p' }, timeoutMs: 5000, maxRetries: 1 });
  const userId: string = randomUserId();
  const claim: ClaimToken = await client.verifyToken({ resource: 'Login', userId, assuranceType: 'liveness' });
  const token: string = claim.token;
  try {
    const result: ValidateResult = await client.verifyValidate({ userId, token, client: 'web' });
    const passed: boolean = result.passed;
    void passed;
  } catch (e) {
    if (e instanceof OutcomeUnknownError) console.log(e.operation);
    else if (e instanceof RateLimitedError) console.log(e.retryAfterMs);
    else if (e instanceof InvalidKeyError) console.log(e.region ?? e.baseUrl, e.status);
    else if (e instanceof AbortedError) console.log(e instanceof TransportError, e.code);
    else if (e instanceof IProovError) console.log(e.code, e.toJSON().kind);
  }
  const audited = createClient({ region: 'eu', apiKey: 'k', secret: 's', audit: async (r) => void r, logger: console, auditFrames: false });
  const oauth: AccessToken = await audited.accessToken({}, { signal: AbortSignal.timeout(5000), attempt: 1 });
  const clear: string = oauth.accessToken;
  const canonical = oauth.canonical();
  void clear;
  void canonical;
  const user = await client.getUser({ userId });
  const status: string = user.status;
  void status;
  const config = new Config({ baseUrl: 'http://127.0.0.1:8080/eu', apiKey: 'k', secret: 's' });
  const request = build('availability', config, {});
  const init = request.fetchInit();
  const available = parse('availability', config, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"up":true}' });
  const up: boolean = available.up;
  void init;
  void up;
  const journey = new Journey({ userId, flow: 'verify' });
  const next: Next = journey.next();
  if (next.next === 'start_attempt') console.log(next.attemptsLeft);
  const advice = new RetryPolicy({ maxRetries: 2 }).advise({ operation: 'verify_token', attempt: 1, failure: 'failed_before_sending' });
  if (advice.action === 'retry_at') console.log(advice.delayMs);
  const manager = new TokenManager(config, { maxUses: 10 });
  const prepared = manager.prepare('get_user', { user_id: userId });
  if (prepared.action === 'need_token') console.log(prepared.tokenRequest.url);
  const record = auditRecord({ operation: 'verify_validate', userId, result: { passed: true } });
  console.log(record, api.VERSION);
}

export async function journeys(client: ReturnType<typeof createClient>): Promise<void> {
  const service = new JourneyService(client, new SQLiteStore('journeys.sqlite3'), { policy: { maxAttempts: 3, userTokenRequests: 10 } });
  try {
    const started = await service.start('verify', randomUserId(), null, { interactive: true, waitMs: 30_000 });
    if ('token' in started) {
      const finished: JourneyFinished = await service.finish(started.journeyId, started.token, 'web', { userId: 'u', waitMs: 0 });
      if (finished.next === 'start_attempt') console.log(finished.attemptsLeft, finished.state);
      if (finished.next === 'exhausted') console.log(finished.retryAfterMs);
    }
  } catch (e) {
    if (e instanceof LimitExceededError) console.log(e.limit, e.retryAfterMs);
    if (e instanceof StoreUnavailableError) console.log(e.storeOperation, e.journeyId, e.result?.passed, e.cause);
  }
  const replayed = await service.replaySpool();
  console.log(replayed.replayed, replayed.failed, replayed.kept, replayed.dropped);
  const history = await service.history('user');
  const first: JourneyRecord | undefined = history[0]?.journey;
  const record: AuditRecordJson | undefined = history[0]?.audit[0];
  if (record?.outcome === 'outcome_unknown') console.log(record.operation, record.error?.code, record.at_ms);
  void first;
  const forgotten: JourneyForgotten = await service.forget('user', { atIproov: true });
  if (forgotten.atIproov === 'deleted') console.log(forgotten.auditRecords);
  const event: ExitEvent = 'no_camera';
  const exited: JourneyFinished = await service.exit('j', 't', event, 'web');
  void exited;
  const policy: ServicePolicy = { maxAttempts: 2, serviceTokenRequests: null };
  void policy;
  // Core's one rule for a kind this version does not know: an ApiError in every host.
  const unknown = errorFromJSON({ code: 'x', kind: 'api', message: 'm' });
  if (unknown instanceof ApiError) console.log(unknown.status ?? 'no status');
  const calls: IProovOperations = client;
  void calls.availability();
  const many = new JourneyService(client, new PostgresStore('postgresql://u@127.0.0.1/db', { spool: '/var/lib/app/iproov.spool.jsonl' }), {
    logger: console,
    clock: Date.now,
  });
  const deleted: number = await many.deleteExpired();
  void deleted;
  const window: number = many.policy.attemptWindowMs;
  void window;
  // A store of your own: any object with the eight methods, by table.
  const rows = new Map<string, JourneyRecord | UserRecord>();
  const key = (table: string, id: string) => `${table} ${id}`;
  const own: JourneyStore = {
    get: (table, id) => rows.get(key(table, id)) ?? null,
    insert: (table, r) => (rows.has(key(table, r.id)) ? false : (rows.set(key(table, r.id), r), true)),
    update: (table, r, v) => (rows.get(key(table, r.id))?.version === v ? (rows.set(key(table, r.id), r), true) : false),
    appendAudit: async () => {},
    journeysOf: () => [],
    auditOf: () => [],
    deleteExpired: () => 0,
    forget: () => ({ journeys: 0, audit_records: 0 }),
  };
  void new JourneyService(client, own, { spool: new FileSpool('spool.jsonl') }).policy.maxAttempts;
  void new JourneyService(client, own, { spool: false });
  void api.SQLiteStore;
}

export function handlers(service: JourneyService): void {
  // The web-standard handler behind the app's auth, and the same in Node's http.
  const handler = createJourneyHandler(service, {
    basePath: '/iproov',
    allowedOrigins: ['https://app.example.com'],
    resolveUser: (request: Request) => request.headers.get('x-user'),
    validateWaitMs: 10_000,
    // Refusals and failures: the service's logger unless given one.
    logger: { info: (message: string) => void message, error: console.error },
  });
  const answer: Promise<Response> = handler(new Request('https://app.example.com/iproov/token'));
  void answer;
  const listener = toNodeHandler(handler);
  void createServer(listener);
  const code: BrowserErrorCode = 'try_again';
  void code;
  // iProov's Web SDK in the page: core's policy for it.
  void createJourneyHandler(service, { resolveUser: () => null, sdkScript: new URL('https://cdn.example.com/iProovMe.js'), assetsUrl: 'https://cdn.iproov.app' });
  // Express behind its parsers; Fastify's plugin; Next.js / Hono call the handler as it is.
  const [expressListener, expressErrors] = toExpressMiddleware(handler);
  void expressListener;
  void expressErrors;
  const plugin: (fastify: any, options: IproovJourneysOptions) => Promise<void> = iproovJourneys;
  void plugin({}, { service, prefix: '/iproov', resolveUser: (request, fastifyRequest: { user?: string }) => fastifyRequest.user });
}

export async function telemetry(): Promise<void> {
  // pino (fields first) and console (message first) are both loggers; so is winston's shape.
  const { default: pino } = await import('pino');
  const logger: Logger = pino({ level: 'debug' });
  const client = createClient({ region: 'eu', apiKey: 'k', secret: 's', logger });
  void new JourneyService(client, new SQLiteStore('j.sqlite3'), { logger: console });
  const plain: Logger = { error: (message: string) => void message, warn: (message: string, fields: object) => void [message, fields] };
  void createClient({ region: 'eu', apiKey: 'k', secret: 's', logger: plain });
  await useOpenTelemetry();
  await useOpenTelemetry({ tracerProvider: { getTracer: () => ({}) }, meterProvider: { getMeter: () => ({}) } });
  stopOpenTelemetry();
}

export function fromEnvironment(): void {
  // The config from IPROOV_*: process.env by default, a worker's bindings when given.
  const config: Config = configFromEnv({ apiKey: 'k' }, { IPROOV_REGION: 'eu', IPROOV_SECRET: 's', OTHER_BINDING: {} });
  const url: string = config.streamingUrl;
  void url;
  void createClient();
  void createClient({ timeoutMs: 5_000, env: { IPROOV_BASE_URL: 'http://127.0.0.1:8080/eu' } });
  void createClient({ config: configFromEnv(), fetch: globalThis.fetch });
}
