"""PyTorch's AdamW (torch 1.13 default: the per-tensor loop) on the parameter shapes OptimizerStep wrote: ms per step."""
import json, sys, time
import torch

torch.set_num_threads(2)
shapes = json.load(open(sys.argv[1]))
steps, rounds = 200, 5
params = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
for p in params:
    p.grad = torch.randn_like(p) * 1e-3
times = []
for _ in range(rounds):
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4)
    for _ in range(10):
        opt.step()
    t = time.perf_counter()
    for _ in range(steps):
        opt.step()
    times.append((time.perf_counter() - t) / steps * 1e3)
print(f"{'PyTorch AdamW':<18} {sorted(times)[len(times) // 2]:.2f} ms/step (rounds {', '.join(f'{x:.2f}' for x in times)}), torch {torch.__version__}, {torch.get_num_threads()} threads")
