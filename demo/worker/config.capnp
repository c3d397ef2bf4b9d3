# workerd config of the demo's edge worker. demo/worker/run.mjs bundles worker.mjs into
# .build/ (as a Worker build would: export conditions "workerd"/"worker", the .wasm kept as a
# module import), then runs `workerd serve` on this file with the socket on a free port.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "demo", worker = .demoWorker),
    # The worker's fetch: iProov over TLS, or the emulator on 127.0.0.1.
    (name = "internet", network = (
      allow = ["public", "private", "local"],
      tlsOptions = (trustBrowserCas = true),
    )),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "demo")],
);

const demoWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed ".build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "internet",
  # The settings, as a deployed worker's variables and secrets (unset ones stay unset).
  bindings = [
    (name = "IPROOV_REGION", fromEnvironment = "IPROOV_REGION"),
    (name = "IPROOV_BASE_URL", fromEnvironment = "IPROOV_BASE_URL"),
    (name = "IPROOV_API_KEY", fromEnvironment = "IPROOV_API_KEY"),
    (name = "IPROOV_SECRET", fromEnvironment = "IPROOV_SECRET"),
    (name = "IPROOV_OAUTH_USERNAME", fromEnvironment = "IPROOV_OAUTH_USERNAME"),
    (name = "IPROOV_OAUTH_PASSWORD", fromEnvironment = "IPROOV_OAUTH_PASSWORD"),
    (name = "IPROOV_DEMO_EMULATOR", fromEnvironment = "IPROOV_DEMO_EMULATOR"),
    (name = "IPROOV_DEMO_WRONG_BASE_URL", fromEnvironment = "IPROOV_DEMO_WRONG_BASE_URL"),
  ],
);
