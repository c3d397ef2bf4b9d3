# workerd config of the edge client's overhead benchmark (`node bench/client-overhead.mjs
# --impl workerd` makes the modules under .build/ and serves this on a loopback port it learns
# through --control-fd; the emulator's URL comes in IPROOV_EMULATOR_URL).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "bench", worker = .benchWorker),
    # The emulator listens on 127.0.0.1: the worker's fetch may reach loopback addresses.
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "bench")],
);

const benchWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed ".build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [(name = "EMULATOR_URL", fromEnvironment = "IPROOV_EMULATOR_URL")],
);
