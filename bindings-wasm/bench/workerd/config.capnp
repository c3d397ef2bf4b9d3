# workerd config of the edge package's benchmark worker (`node bench/workerd.mjs` makes the
# modules under .build/ and serves this on a loopback port it learns through --control-fd).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "bench", worker = .benchWorker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "bench")],
);

const benchWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed ".build/worker.mjs"),
    (name = "iproov_sansio_wasm_bg.wasm", wasm = embed ".build/iproov_sansio_wasm_bg.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
