// What a scenario's client told (issue 27 item 7): its log lines (the `logger` option) and,
// where the runner captures them, its OpenTelemetry spans and metrics, checked against the
// requests the emulator received and the calls the scenario made; and none of it holding a
// credential, an access token, a claim token or a user id, in any form. Platform-neutral (the
// Node runner and the workerd test worker use it); the same checks as Python's
// bindings-python/tests/scenario_telemetry.py.

const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const EVENTS = new Set(['iproov.send', 'iproov.call', 'iproov.retry', 'iproov.token', 'iproov.journey']);
/** The transport failure of a send that never left (core's table): no request reached iProov. */
const NEVER_SENT = 'aborted_before_sending';

/** A console-convention logger that keeps every line: `{logger, lines: [{level, message, fields}]}`. */
export function captureLogger() {
  const lines = [];
  const logger = {};
  for (const level of LEVELS) logger[level] = (message, fields) => lines.push({ level, message, fields });
  return { logger, lines };
}

const base64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
/** Every form a secret travels in: raw, JSON-escaped, percent-encoded (RFC 3986 and form), base64. */
export function forms(value) {
  const out = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), base64(value)];
  return [...new Set(out)].filter((form) => form.length >= 6);
}

/** `[where, needle]` for each text (`[where, text]`) holding a needle. */
export function leaks(texts, needles) {
  const found = [];
  for (const [where, text] of texts) for (const needle of needles) if (text.includes(needle)) found.push([where, needle]);
  return found;
}

/** Every string in a value, at any depth (keys too): a form kept verbatim in a field would be
 * escaped once more by JSON.stringify, where no needle would match it. */
const held = (value) =>
  typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => [k, ...held(v)]) : [];

/** Every text the telemetry holds: `[where, text]` for each line, span and metric point, as
 * JSON and each string in it. */
export function telemetryTexts({ lines, spans = [], metrics = [] }) {
  const all = (where, value) => [JSON.stringify(value), ...held(value)].map((text) => [where, text]);
  return [
    ...lines.flatMap((l, i) => all(`log line ${i} (${l.fields?.iproov_event})`, [l.message, l.fields])),
    ...spans.flatMap((s) => all(`span ${s.name}`, [s.name, s.attributes, s.events, s.status?.message ?? ''])),
    ...metrics.flatMap((m) => m.points.flatMap((p) => all(`metric ${m.name}`, [m.name, p.attributes]))),
  ];
}

const count = (items, key) => {
  const out = new Map();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
};
const sameCounts = (where, got, want) => {
  const show = (m) => JSON.stringify([...m].sort());
  if (show(got) !== show(want)) throw new Error(`${where}: got ${show(got)}, expected ${show(want)}`);
};
const canonical = (value) =>
  JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));
/** Whether a full path (`/eu/api/v2/users/u1`) is an instance of a template (`/users/{user_id}`). */
const matches = (template, path) =>
  new RegExp(`${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[a-z_]+\}/g, '[^/]+')}$`).test(path);

/**
 * Checks what a scenario's client told; throws an Error naming the first mismatch. Gives
 * `{lines, sends, spans}` counted.
 * @param {object} told `lines` (captureLogger's), `otel` (`{spans, metrics}`, normalised by the
 *   runner: spans `{name, kind: 'client' | 'internal', spanId, parentSpanId, startMs, endMs,
 *   attributes, events: [{name, attributes}], status: {code: 'unset' | 'error', message}}`,
 *   metrics `{name, unit, points: [{attributes, value}]}`, a histogram's value its count) or
 *   undefined where the runner captures none
 * @param {object} facts `requests`: the emulator's `GET /__emulator/requests`; `port`: its
 *   port; `calls`: `[{operation, code}]` of every call the steps made (`code`: its error's, or
 *   undefined for a result); `needles`: every secret string (each form is looked for)
 */
export function checkTelemetry({ lines, otel }, { requests, port, calls, needles }) {
  const found = leaks(telemetryTexts({ lines, ...otel }), needles.flatMap(forms));
  if (found.length > 0) throw new Error(`secrets in the telemetry: ${found.map(([where, n]) => `${where} holds ${n.slice(0, 6)}...`).join('; ')}`);
  for (const line of lines) {
    const event = line.fields?.iproov_event;
    if (!EVENTS.has(event) || typeof line.fields.iproov !== 'object' || typeof line.message !== 'string' || line.message === '') {
      throw new Error(`a log line is not an event: ${JSON.stringify(line)}`);
    }
  }
  const of = (name) => lines.filter((l) => l.fields.iproov_event === name).map((l) => ({ level: l.level, ...l.fields.iproov }));
  const sends = of('iproov.send');
  const callLines = of('iproov.call');
  const retries = of('iproov.retry');

  // One send line per request the emulator received (a send that never left aside), by method
  // and path, each with its answer's status (error.type the status from 400 on) or the name of
  // its transport failure.
  const sent = sends.filter((s) => s['error.type'] !== NEVER_SENT);
  if (sent.length !== requests.total) throw new Error(`${sent.length} send lines for the ${requests.total} requests the emulator received`);
  for (const [key, n] of Object.entries(requests.requests)) {
    const [method, path] = key.split(' ');
    const seen = sent.filter((s) => s['http.request.method'] === method && matches(s['url.template'], path)).length;
    if (seen !== n) throw new Error(`${seen} send lines for ${key}, which the emulator received ${n} times`);
  }
  for (const s of sends) {
    const status = s['http.response.status_code'];
    const ok =
      s.level === 'debug' && s['server.address'] === '127.0.0.1' && s['server.port'] === port && typeof s['url.template'] === 'string' &&
      Number.isInteger(s['iproov.send']) && s['iproov.send'] >= 1 &&
      (status === undefined ? /^[a-z_]+$/.test(s['error.type']) : s['error.type'] === (status >= 400 ? String(status) : undefined));
    if (!ok) throw new Error(`a send line says too little or too much: ${JSON.stringify(s)}`);
  }

  // One call line per call the steps made, with its operation and how it ended.
  const outcome = (c) => (c.code === undefined ? `${c.operation} ok` : `${c.operation} ${c.code}`);
  sameCounts('calls told', count(callLines, (c) => outcome({ operation: c['iproov.operation'], code: c['error.type'] })), count(calls, outcome));
  for (const c of callLines) {
    const failed = c['error.type'] !== undefined;
    const kind = failed ? (c['error.type'] === 'outcome_unknown' ? 'outcome_unknown' : 'error') : 'a result';
    const fits = failed ? c['iproov.outcome'] === kind && c.level !== 'debug' : !['error', 'outcome_unknown'].includes(c['iproov.outcome']) && c.level === 'debug';
    if (!fits) throw new Error(`a call line's outcome and level do not fit ${kind}: ${JSON.stringify(c)}`);
  }
  // A call's sends of its own operation are its `iproov.sends`; the rest are its OAuth token's.
  const own = sends.filter((s) => s['iproov.operation'] !== 'access_token').length;
  const told = callLines.filter((c) => c['iproov.operation'] !== 'access_token').reduce((n, c) => n + c['iproov.sends'], 0);
  if (own !== told) throw new Error(`the call lines count ${told} sends, the send lines are ${own}`);
  // A retry is at info and is followed by the send it scheduled.
  for (const r of retries) {
    const next = sends.some((s) => s['iproov.operation'] === r['iproov.operation'] && s['iproov.send'] === r['iproov.send'] + 1);
    if (r.level !== 'info' || typeof r['error.type'] !== 'string' || !next) throw new Error(`a retry line without its next send: ${JSON.stringify(r)}`);
  }

  if (otel !== undefined) checkOpenTelemetry(otel, { sends, callLines, retries, tokens: of('iproov.token').length, calls });

  return { lines: lines.length, sends: sends.length, spans: otel?.spans.length ?? 0 };
}

/** The spans and metrics: the same events as the log lines, each send a client span under its call's span. */
function checkOpenTelemetry({ spans, metrics }, { sends, callLines, retries, tokens, calls }) {
  const strip = ({ level, ...attributes }) => canonical(attributes); // eslint-disable-line no-unused-vars
  const sendSpans = spans.filter((s) => s.name === 'iproov.send');
  const callSpans = spans.filter((s) => s.name === 'iproov.call');
  if (sendSpans.length + callSpans.length !== spans.length) throw new Error(`spans of other names: ${spans.map((s) => s.name)}`);
  sameCounts('send spans', count(sendSpans, (s) => canonical(s.attributes)), count(sends, strip));
  sameCounts('call spans', count(callSpans, (s) => canonical(s.attributes)), count(callLines, strip));
  const byId = new Map(callSpans.map((s) => [s.spanId, { span: s, children: [] }]));
  for (const s of sendSpans) {
    const parent = byId.get(s.parentSpanId);
    if (s.kind !== 'client' || parent === undefined) throw new Error(`a send span is no client span under a call span: ${JSON.stringify(s)}`);
    if (s.startMs < parent.span.startMs || s.endMs > parent.span.endMs || s.startMs > s.endMs) throw new Error(`a send span outside its call's: ${JSON.stringify([s, parent.span])}`);
    parent.children.push(s.attributes);
  }
  let retryEvents = 0;
  let tokenEvents = 0;
  for (const { span, children } of byId.values()) {
    const op = span.attributes['iproov.operation'];
    const mine = children.filter((c) => c['iproov.operation'] === op);
    const others = children.filter((c) => c['iproov.operation'] !== op);
    if (span.parentSpanId !== undefined || span.kind !== 'internal') throw new Error(`a call span is not a root internal span: ${JSON.stringify(span)}`);
    if (mine.length !== span.attributes['iproov.sends'] || others.some((c) => c['iproov.operation'] !== 'access_token')) {
      throw new Error(`call span ${op} (${span.attributes['iproov.sends']} sends) has the children ${JSON.stringify(children)}`);
    }
    const failed = span.attributes['error.type'] !== undefined;
    if ((span.status.code === 'error') !== (failed && callLines.some((c) => c.level === 'warn' && strip(c) === canonical(span.attributes)))) {
      throw new Error(`call span status ${span.status.code} for ${JSON.stringify(span.attributes)}`);
    }
    for (const event of span.events) {
      if (event.name === 'iproov.token') tokenEvents += 1;
      else if (event.name === 'iproov.retry') {
        retryEvents += 1;
        const n = event.attributes['iproov.send'];
        const at = (k) => children.find((c) => c['iproov.operation'] === event.attributes['iproov.operation'] && c['iproov.send'] === k);
        if (at(n)?.['error.type'] === undefined || at(n + 1) === undefined) throw new Error(`a retry event of ${op} without its failed send and the next: ${JSON.stringify([event, children])}`);
      } else throw new Error(`an event ${event.name} on a call span`);
    }
  }
  if (retryEvents !== retries.length || tokenEvents !== tokens) throw new Error(`${retryEvents} retry and ${tokenEvents} token span events for ${retries.length} and ${tokens} lines`);

  // Metrics: calls and their duration by operation and outcome, as the call spans say.
  const byOutcome = count(callSpans, (s) => `${s.attributes['iproov.operation']} ${s.attributes['iproov.outcome']}`);
  const want = calls.length === 0 ? [] : ['iproov.client.call.duration', 'iproov.client.calls'];
  const names = metrics.map((m) => m.name).sort();
  if (canonical(names) !== canonical(want)) throw new Error(`metrics ${names}, expected ${want}`);
  for (const m of metrics) {
    for (const p of m.points) {
      if (canonical(Object.keys(p.attributes).sort()) !== canonical(['iproov.operation', 'iproov.outcome'])) throw new Error(`${m.name} labels ${JSON.stringify(p.attributes)}`);
    }
    const got = new Map(m.points.map((p) => [`${p.attributes['iproov.operation']} ${p.attributes['iproov.outcome']}`, p.value]));
    sameCounts(m.name, got, byOutcome);
    if (m.name === 'iproov.client.call.duration' && m.unit !== 'ms') throw new Error(`${m.name} in ${m.unit}`);
  }
}
