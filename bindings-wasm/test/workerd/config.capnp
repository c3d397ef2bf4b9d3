# workerd config of the edge package's test worker: `workerd test config.capnp` runs the
# worker's test() handler and exits non-zero on failure. The modules under .build/ are made by
# run.mjs (the worker bundled as a Worker build would, the .wasm, the vectors as JSON).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .testWorker),
    # The emulator listens on 127.0.0.1: the worker's fetch may reach loopback addresses.
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
);

const testWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed ".build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
    (name = "vectors.json", json = embed ".build/vectors.json"),
  ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "loopback",
  bindings = [
    (name = "EMULATOR_URL", fromEnvironment = "IPROOV_EMULATOR_URL"),
  ],
);
