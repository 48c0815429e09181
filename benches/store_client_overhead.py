#!/usr/bin/env python3
"""The store client's overhead: logging an epoch, recording representations on a
500-example probe, saving weights, a 21 x 21 PyTorch landscape (docs/benchmarks.md).

    python benches/store_client_overhead.py
"""
import time, tempfile, numpy as np, torch, neuromosaic
from neuromosaic import Float, Int
d = tempfile.mkdtemp()
store = neuromosaic.Store(d)
sweep = store.sweep("s", space={"lr": Float(1e-4, 1.0, log=True), "width": Int(8, 512)})
rng = np.random.default_rng(0)
sweep.set_probe(rng.normal(size=(500, 64)).astype(np.float32), rng.integers(0, 10, 500))
run = sweep.start_run({"lr": 0.01, "width": 128})
times = []
for e in range(1, 201):
    t = time.perf_counter(); run.log(e, train_loss=1.0 / e, val_loss=1.1 / e, val_accuracy=0.5, learning_rate=0.01); times.append(time.perf_counter() - t)
print(f"log(): median {1e3*np.median(times):.3f} ms, p95 {1e3*np.percentile(times, 95):.3f} ms over 200 epochs")
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
rec = []
for _ in range(20):
    t = time.perf_counter(); run.record_representations(model, ["1", "3"]); rec.append(time.perf_counter() - t)
print(f"record_representations (500-example probe, 64-128-128-10 MLP, two layers): median {1e3*np.median(rec):.1f} ms")
t = time.perf_counter(); run.save_weights(model.state_dict()); print(f"save_weights: {1e3*(time.perf_counter()-t):.1f} ms")
s = time.perf_counter(); run.landscape(model, torch.nn.functional.cross_entropy, torch.randn(500, 64), torch.randint(0, 10, (500,)), x=(-1, 1, 21), y=(-1, 1, 21)); print(f"landscape 21x21 on 500 examples: {time.perf_counter()-s:.2f} s")
