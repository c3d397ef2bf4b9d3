# The web page's end-to-end tests (sourced by scripts/test, after python_suite built the wheel
# into target/py-venv with starlette, uvicorn, fastapi, django and flask, node_suite the Node
# package with its frameworks (express, fastify, hono) and wasm_suite the edge package with
# workerd, and the emulator binary): Debian's chromium (installed with apt when
# /usr/bin/chromium is missing) driven by playwright-core from npm, which never downloads a
# browser of its own.

chromium_ensure() {
  if [ ! -x /usr/bin/chromium ]; then
    note "installing Debian's chromium (apt)"
    apt_install chromium
  fi
  note "$(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
}

web_suite() {
  step "Web page: Debian's chromium and playwright-core (tests/web)"
  chromium_ensure
  (cd tests/web && npm_install_quiet)
  note "playwright-core $(node -p 'require("./tests/web/node_modules/playwright-core/package.json").version')"

  step "Web page in headless Chromium, every journey (pass; fail then pass; exhausted; reload mid-journey; second tab; double click; the SDK's ends; busy; a fault during validate) through demo/web.py, the README's worker in workerd and its Node http example, and the README examples of Express (behind express.json()), Fastify, Hono, Django, Flask and FastAPI (async, no thread pool)"
  # Two processes at once, each with its own emulator, Chromium and servers: the Python hosts
  # and the JS ones. The journeys mostly wait (held validates, countdowns, server starts) and
  # none of their assertions depends on the machine's speed (tests/README.md). Each log is
  # shown as it is once both ended; both are always waited for.
  local group i log pids=() failed=0 logs=$PWD/target/web-logs
  rm -rf "$logs" && mkdir -p "$logs"
  for group in python,django,flask,fastapi worker,node,express,fastify,hono; do
    (cd tests/web && IPROOV_WEB_HOSTS=$group \
      run_node_test "node --test (web page in Chromium: ${group//,/, })" --test-concurrency=1 e2e.test.mjs) \
      >"$logs/${group%%,*}.log" 2>&1 &
    pids+=("$!:$group")
  done
  for i in "${pids[@]}"; do
    group=${i#*:}
    log=$logs/${group%%,*}.log
    if wait "${i%%:*}"; then
      note "$group: $(grep -E '^ℹ (tests|pass|fail|skipped) ' "$log" | tr '\n' ' ')"
    else
      cat "$log"
      echo "the web page's tests failed through $group" >&2
      failed=1
    fi
  done
  return "$failed"
}
