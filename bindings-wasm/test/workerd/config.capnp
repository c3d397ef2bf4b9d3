# workerd config of the edge package's test worker: `workerd test config.capnp` runs the
# worker's test() handler and exits non-zero on failure. The modules under .build/ are made by
# run.mjs (the worker bundled as a Worker build would, the .wasm, the vectors and the client
# scenarios as JSON).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .testWorker),
    (name = "readme-example", worker = .exampleWorker),
    (name = "readme-journeys", worker = .journeysExampleWorker),
    # Where the Durable Objects keep their SQLite files: run.mjs points these at fresh
    # directories (--directory-path). (In-memory storage has no SQL behind it.)
    (name = "journey-store-test-storage", disk = (writable = true)),
    (name = "readme-journeys-storage", disk = (writable = true)),
    # The emulator listens on 127.0.0.1: the worker's fetch may reach loopback addresses.
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
);

const testWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed ".build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
    (name = "vectors.json", json = embed ".build/vectors.json"),
    (name = "scenarios.json", json = embed ".build/scenarios.json"),
  ],
  compatibilityDate = "2025-01-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "loopback",
  bindings = [
    (name = "EMULATOR_URL", fromEnvironment = "IPROOV_EMULATOR_URL"),
    (name = "EXAMPLE", service = "readme-example"),
    (name = "JOURNEYS_EXAMPLE", service = "readme-journeys"),
    (name = "JOURNEYS", durableObjectNamespace = "JourneyStoreTest"),
  ],
  # The journey store's tests: SQLite-backed Durable Objects (the SQL API needs enableSql).
  durableObjectNamespaces = [
    (className = "JourneyStoreTest", uniqueKey = "iproov-sansio-journey-store-test", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "journey-store-test-storage"),
);

# The README's worker example, exactly as written, pointed at the emulator.
const exampleWorker :Workerd.Worker = (
  modules = [
    (name = "example.mjs", esModule = embed ".build/example.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "IPROOV_BASE_URL", fromEnvironment = "IPROOV_EXAMPLE_BASE_URL"),
    (name = "IPROOV_API_KEY", text = "eudefaultkey0000000000000000000000000000"),
    (name = "IPROOV_SECRET", text = "eudefaultsecret0000000000000000000000000"),
  ],
);

# The README's journeys worker (its Durable Object class `Journeys`), as written but for
# `region: 'eu'`, which run.mjs points at the emulator.
const journeysExampleWorker :Workerd.Worker = (
  modules = [
    (name = "journeys-example.mjs", esModule = embed ".build/journeys-example.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
  globalOutbound = "loopback",
  bindings = [
    (name = "JOURNEYS", durableObjectNamespace = "Journeys"),
    (name = "IPROOV_API_KEY", text = "eudefaultkey0000000000000000000000000000"),
    (name = "IPROOV_SECRET", text = "eudefaultsecret0000000000000000000000000"),
  ],
  durableObjectNamespaces = [
    (className = "Journeys", uniqueKey = "iproov-sansio-readme-journeys", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "readme-journeys-storage"),
);
