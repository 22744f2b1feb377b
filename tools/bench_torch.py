"""PyTorch CPU peer for `deno task bench`: times torch.nn.functional.scaled_dot_product_attention.

Usage: python tools/bench_torch.py --T 256,512 --d 64 [--threads 1]
Prints one JSON document: {"torch": version, "threads": n, "entries": [{T, d, ms, median, cpuMs}, ...]} (ms: the fastest run;
cpuMs: the least CPU time of a run, all threads).
Exits 3 (and prints a reason on stderr) when torch is not importable.
"""

import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as err:  # the bench turns this into a visible "skipped" note
    print(f"torch is not importable: {err}", file=sys.stderr)
    sys.exit(3)


def best_ms(fn, budget_s=1.0, min_runs=3, max_runs=20):
    """The fastest and the median wall time of fn() after one warm-up run (as tools/bench.ts measures), and the
    least CPU time (all threads) of a run: on a shared machine a one-thread run's CPU time is what it would take
    on a quiet one."""
    t0 = time.perf_counter()
    fn()
    warm = time.perf_counter() - t0
    runs = 1 if warm > budget_s else min_runs
    samples, cpu = [], []
    start = time.perf_counter()
    while len(samples) < runs or (time.perf_counter() - start < budget_s and len(samples) < max_runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    samples.sort()
    mid = len(samples) // 2
    median = samples[mid] if len(samples) % 2 else (samples[mid - 1] + samples[mid]) / 2
    return samples[0], median, min(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--T", required=True, help="comma-separated sequence lengths")
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    entries = []
    with torch.inference_mode():
        for T in (int(t) for t in args.T.split(",")):
            q, k, v = (torch.randn(1, 1, T, args.d, dtype=torch.float32) for _ in range(3))
            ms, median, cpu = best_ms(lambda: F.scaled_dot_product_attention(q, k, v))
            entries.append({"T": T, "d": args.d, "ms": ms, "median": median, "cpuMs": cpu})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "entries": entries}))


if __name__ == "__main__":
    main()
