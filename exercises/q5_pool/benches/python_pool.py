"""The figures of benches/pool.rs, measured with Python's multiprocessing.

Run by `cargo bench -p q5_pool` when python3 is present; prints one JSON
object with the same keys (units in the names). Usage:
    python3 python_pool.py [--quick]
    python3 python_pool.py --serve

With --serve it keeps a Pool(1) and answers one line per command read on
stdin, so that the benchmark can measure Rust and Python alternately:
    throughput N   a map of N tiny tasks, one per message (chunksize=1),
                   pipelined: microseconds per task
    latency N      N tasks each sent alone and awaited (apply): microseconds
                   per round trip
    fork N         N processes created and joined (fork context):
                   microseconds per process
"""

import json
import multiprocessing as mp
import os
import statistics
import sys
import time

QUICK = "--quick" in sys.argv
SPIN = 1_500_000  # iterations of one CPU-bound task (tens of ms in CPython)


def nothing():
    pass


def square(x):
    return x * x


def spin(n):
    x = 0
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def median_of(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def create(ctx, repeats):
    def once():
        p = ctx.Process(target=nothing)
        p.start()
        p.join()

    return median_of(once, repeats) * 1e6


def serve():
    fork = mp.get_context("fork")
    with fork.Pool(1) as pool:
        pool.map(square, range(100), chunksize=1)
        for line in sys.stdin:
            command, n = line.split()
            n = int(n)
            start = time.perf_counter()
            if command == "throughput":
                pool.map(square, range(n), chunksize=1)
            elif command == "latency":
                for x in range(n):
                    pool.apply(square, (x,))
            elif command == "fork":
                for _ in range(n):
                    p = fork.Process(target=nothing)
                    p.start()
                    p.join()
            else:
                raise SystemExit(f"unknown command {command!r}")
            print(json.dumps((time.perf_counter() - start) / n * 1e6), flush=True)


def main():
    if "--serve" in sys.argv:
        return serve()
    fork, spawn = mp.get_context("fork"), mp.get_context("spawn")
    cores = os.cpu_count() or 1
    out = {}
    out["fork_create_us"] = create(fork, 20 if QUICK else 100)
    out["spawn_create_us"] = create(spawn, 3 if QUICK else 10)

    with fork.Pool(cores) as pool:
        for size in (10, 10_000, 1_000_000):
            numbers = list(range(size))
            per_item = median_of(lambda: pool.map(square, numbers), 1 if size == 1_000_000 and QUICK else 3)
            out[f"map_{size}_item_ns"] = per_item / size * 1e9
        out["pool_chunked_item_ns"] = out["map_1000000_item_ns"]

    def start_map_stop(ctx):
        with ctx.Pool(4) as pool:
            pool.map(square, range(4))

    out["pool_startup_us"] = median_of(lambda: start_map_stop(fork), 3 if QUICK else 10) * 1e6
    out["spawn_pool_startup_us"] = median_of(lambda: start_map_stop(spawn), 2 if QUICK else 5) * 1e6

    tasks = [SPIN] * 8
    sequential = median_of(lambda: [spin(n) for n in tasks], 1 if QUICK else 3)
    for workers in range(1, cores + 1):
        with fork.Pool(workers) as pool:
            pool.map(spin, [1000] * workers)
            parallel = median_of(lambda: pool.map(spin, tasks, chunksize=1), 1 if QUICK else 3)
        out[f"cpu_speedup_{workers}_workers"] = sequential / parallel

    out["python_version"] = sys.version.split()[0]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
