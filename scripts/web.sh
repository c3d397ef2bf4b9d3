# The web page's end-to-end tests (sourced by scripts/test, after python_suite built the wheel
# into target/py-venv with starlette and uvicorn, node_suite the Node package and wasm_suite
# the edge package with workerd, and the emulator binary): Debian's chromium
# (installed with apt when /usr/bin/chromium is missing) driven by playwright-core from npm,
# which never downloads a browser of its own.

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

  step "Web page in headless Chromium: pass, fail then pass, attempts exhausted, double submit, a fault during validate (Python); pass and double submit through the JS handler in workerd and on Node's http"
  (cd tests/web && run_node_test "node --test (web page in Chromium)" --test-concurrency=1 e2e.test.mjs)
}
