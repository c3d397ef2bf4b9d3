// The benchmark worker: runs one measured loop per request, so the runner (../workerd.mjs)
// times it from outside (workers' clocks do not advance while code runs). The package is
// imported as a Worker imports it; the cases and the baseline are the Node package's.
import api from 'iproov-sansio-edge';
import { CASES, CONFIG_OPTIONS, FRAME_CASE, JSON_HEADERS, baselineBuild, baselineParse } from '../../../bindings-node/bench/cases.mjs';

const config = new api.Config(CONFIG_OPTIONS);
const decoder = new TextDecoder();

function caseOf(name) {
  if (name === FRAME_CASE[0]) return { op: FRAME_CASE[1], input: undefined, text: FRAME_CASE[2] };
  const found = CASES[name];
  if (!found) throw new Error(`unknown case ${name}`);
  return { op: name, input: found[0], text: found[1] };
}

const LOOPS = {
  build: ({ op, input }) => api.build(op, config, input).url.length,
  baseline_build: ({ op, input }) => baselineBuild(op, input).url.length,
  parse: ({ op, response }) => (api.parse(op, config, response) ? 1 : 0),
  baseline_parse: ({ op, bytes }) => (baselineParse(op, decoder.decode(bytes)) ? 1 : 0),
  json_parse: ({ bytes }) => (JSON.parse(decoder.decode(bytes)) ? 1 : 0),
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const loop = LOOPS[url.searchParams.get('kind')];
    const n = Number(url.searchParams.get('n'));
    if (!loop || !Number.isInteger(n) || n < 0) return new Response('bad query', { status: 400 });
    const c = caseOf(url.searchParams.get('case'));
    c.bytes = new TextEncoder().encode(c.text);
    c.response = { status: 200, headers: JSON_HEADERS, body: c.bytes };
    let sink = 0;
    for (let i = 0; i < n; i++) sink += loop(c);
    return new Response(String(sink));
  },
};
