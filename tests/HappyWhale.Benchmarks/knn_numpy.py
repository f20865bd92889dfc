"""numpy reference for KnnMap5Benchmark: the same kNN + aggregation + MAP@5 on the same data.

Reads artifacts/bench/knn/*.npy (written by the C# benchmark's GlobalSetup), then per chunk of
queries does one matrix product and an argpartition for the k best gallery rows, sorts those k,
aggregates neighbours to individuals (best similarity per individual, first five), inserts
new_individual at the first rank below the threshold, and scores MAP@5, vectorised over queries.
Prints one JSON line: seconds (best and all repeats), map5, peak RSS, BLAS kernel.
Run with Debian's interpreter: /usr/bin/python3 knn_numpy.py [data folder] [repeats].
"""
import ctypes
import json
import os
import resource
import sys
import time

import numpy as np

K = 100
THRESHOLD = np.float32(0.25)  # KnnData.Threshold
CHUNK = 2048


def normalise(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def knn(queries, gallery, k):
    q = normalise(queries)
    g_t = np.ascontiguousarray(normalise(gallery).T)
    n = q.shape[0]
    sims = np.empty((n, k), np.float32)
    idx = np.empty((n, k), np.int64)
    for start in range(0, n, CHUNK):
        block = q[start:start + CHUNK] @ g_t                      # one matrix product per chunk
        part = np.argpartition(block, block.shape[1] - k, axis=1)[:, -k:]
        vals = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")          # best first, like topk(sorted=True)
        sims[start:start + CHUNK] = np.take_along_axis(vals, order, axis=1)
        idx[start:start + CHUNK] = np.take_along_axis(part, order, axis=1)
    return sims, idx


def map5(sims, idx, gallery_labels, query_labels, threshold):
    labels = gallery_labels[idx]                                  # (n, k) individual per neighbour
    n, k = labels.shape
    rows = np.arange(n)[:, None]
    # First occurrence of each individual in a row (neighbours are sorted, so that is its best similarity).
    order = np.argsort(labels, axis=1, kind="stable")
    sorted_labels = labels[rows, order]
    first_sorted = np.ones_like(sorted_labels, dtype=bool)
    first_sorted[:, 1:] = sorted_labels[:, 1:] != sorted_labels[:, :-1]
    first = np.empty_like(first_sorted)
    first[rows, order] = first_sorted
    rank = np.cumsum(first, axis=1) - 1                           # 0-based rank of each individual
    keep = first & (rank < 5)
    r, c = np.nonzero(keep)
    top_ids = np.full((n, 5), -2, np.int64)
    top_sims = np.full((n, 5), -np.inf, np.float32)
    top_ids[r, rank[r, c]] = labels[r, c]
    top_sims[r, rank[r, c]] = sims[r, c]
    # new_individual goes before the first individual below the threshold (or after the last one).
    new_at = (top_sims >= threshold).sum(axis=1)                  # 5 = left out
    hit = top_ids == query_labels[:, None]
    has = hit.any(axis=1)
    j = hit.argmax(axis=1)
    pos = np.where(j < new_at, j, j + 1)
    score_known = np.where(has & (pos < 5), 1.0 / (pos + 1), 0.0)
    score_new = np.where(new_at < 5, 1.0 / (new_at + 1), 0.0)
    return float(np.where(query_labels < 0, score_new, score_known).mean())


def blas_kernel():
    """Which BLAS numpy calls, and for OpenBLAS the core kernel it picked (threadpoolctl if present)."""
    try:
        import threadpoolctl
        return [{k: v for k, v in i.items() if k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
                for i in threadpoolctl.threadpool_info()]
    except ImportError:
        pass
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "blas" in os.path.basename(path) and path.startswith("/"):
                libs.add(os.path.realpath(path))
    found = []
    for path in sorted(libs):
        entry = {"filepath": path}
        try:
            lib = ctypes.CDLL(path)
            for fn in ("openblas_get_corename", "openblas_get_config"):
                if hasattr(lib, fn):
                    getattr(lib, fn).restype = ctypes.c_char_p
                    entry[fn.replace("openblas_get_", "")] = getattr(lib, fn)().decode()
            if hasattr(lib, "openblas_get_num_threads"):
                entry["num_threads"] = lib.openblas_get_num_threads()
        except OSError as e:
            entry["error"] = str(e)
        found.append(entry)
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "artifacts", "bench", "knn")
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    queries = np.load(os.path.join(folder, "queries.npy"))
    gallery = np.load(os.path.join(folder, "gallery.npy"))
    query_labels = np.load(os.path.join(folder, "query_labels.npy")).astype(np.int64)
    gallery_labels = np.load(os.path.join(folder, "gallery_labels.npy")).astype(np.int64)
    assert queries.dtype == np.float32 and gallery.dtype == np.float32

    times, score = [], None
    for i in range(repeats + 1):                                  # the first run is a warm-up, like the C# job
        t0 = time.perf_counter()
        sims, idx = knn(queries, gallery, K)
        score = map5(sims, idx, gallery_labels, query_labels, THRESHOLD)
        elapsed = time.perf_counter() - t0
        if i > 0:
            times.append(elapsed)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds_mean": sum(times) / len(times), "seconds_all": times, "map5": score,
        "peak_rss_bytes": peak_kb * 1024, "numpy": np.__version__, "chunk": CHUNK,
        "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")},
        "blas": blas_kernel(),
    }))


if __name__ == "__main__":
    main()
