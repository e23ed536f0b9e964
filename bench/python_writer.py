# SPDX-License-Identifier: Apache-2.0
"""bench/python_writer.py - linlearn's write_numpy_to_dense_tensor / write_spmatrix_to_sparse_tensor
against the SageMaker SDK's per-row protobuf writer (re-implemented in
python/tests/sdk_reference.py with python3-protobuf), same input, same run, same output
object (io.BytesIO); checks the bytes are identical and prints the speed ratio.

    python bench/python_writer.py [ROWS] [COLS]     (default 100000 x 100 float32)
"""
import io
import os
import sys
import tempfile
import time

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python", "tests"))
import sdk_reference as sdk  # noqa: E402

import linlearn  # noqa: E402


class Null:
    """A file object that drops what it is given (the cost of the writer alone)."""

    def write(self, b):
        return len(b)


def sinks(tmp):
    def bytesio():
        return io.BytesIO()

    def disk():
        return open(os.path.join(tmp, "out.pbr"), "wb")

    return [("BytesIO", bytesio), ("file", disk), ("null", Null)]


def best(fn, make_sink, reps):
    """(best CPU seconds, best wall seconds) of fn(sink) over reps runs."""
    cpu = wall = float("inf")
    for _ in range(reps):
        f = make_sink()
        c0, w0 = time.process_time(), time.perf_counter()
        fn(f)
        if hasattr(f, "close"):
            f.close()
        cpu = min(cpu, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return cpu, wall


def output(fn):
    b = io.BytesIO()
    fn(b)
    return b.getvalue()


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    cols = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    reps = int(os.environ.get("BENCH_REPS", "3"))
    rng = np.random.RandomState(0)
    X = rng.randn(rows, cols).astype(np.float32)
    y = (rng.rand(rows) > 0.5).astype(np.float32)
    # 30 non-zeros a row over cols * 100 columns (built directly: sp.random would allocate
    # a permutation of every cell)
    nz = 30
    ind = np.sort(rng.randint(0, cols * 100, size=(rows, nz)), axis=1).astype(np.int32)
    S = sp.csr_matrix((rng.randn(rows * nz).astype(np.float32), ind.ravel(),
                       np.arange(0, rows * nz + 1, nz, dtype=np.int32)), shape=(rows, cols * 100))
    cases = [
        ("dense", lambda f: sdk.write_numpy_to_dense_tensor(f, X, y),
         lambda f: linlearn.write_numpy_to_dense_tensor(f, X, y)),
        ("sparse", lambda f: sdk.write_spmatrix_to_sparse_tensor(f, S, y),
         lambda f: linlearn.write_spmatrix_to_sparse_tensor(f, S, y)),
    ]
    print("{} x {} float32 (+ labels); sparse: {} x {} CSR, 30 non-zeros a row".format(
        rows, cols, rows, cols * 100))
    print("base: SDK-style per-row protobuf writer (python3-protobuf, {} backend), 1 run; "
          "linlearn: best of {}".format(sdk.api_implementation(), reps))
    print("CPU s = this process's CPU time (steady on a loaded machine), wall s = elapsed")
    print("{:<7} {:<8} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8} {:>10}".format(
        "case", "sink", "base CPU", "now CPU", "ratio", "base wall", "now wall", "ratio",
        "now MB/s"))
    headline = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, base, now in cases:
            ref, ours = output(base), output(now)
            if ref != ours:
                sys.exit("python_writer: {} output differs from the SDK-style writer's".format(
                    name))
            for sink, make in sinks(tmp):
                bc, bw = best(base, make, 1)
                nc, nw = best(now, make, reps)
                print("{:<7} {:<8} {:>10.3f} {:>10.3f} {:>7.1f}x {:>10.3f} {:>10.3f} {:>7.1f}x "
                      "{:>10.1f}".format(name, sink, bc, nc, bc / nc, bw, nw, bw / nw,
                                         len(ours) / nw / 1e6))
                if name == "dense" and sink == "file":
                    headline = bc / nc
            if name == "dense":
                chunks = [ours[i:i + (1 << 20)] for i in range(0, len(ours), 1 << 20)]
                fc, _ = best(lambda f: [f.write(c) for c in chunks], io.BytesIO, reps)
                print("{:<7} {:<8} {:>10} {:>10.3f}   (BytesIO alone: the finished bytes written "
                      "in 1 MiB pieces)".format(name, "floor", "", fc))
        c0 = time.process_time()
        n = sum(1 for _ in linlearn.RecordReader(io.BytesIO(output(cases[0][2]))))
        print("RecordReader: {} dense rows in {:.3f} s CPU".format(n, time.process_time() - c0))
    print("dense into a file, CPU ratio {:.1f}x (target >= 20x): {}".format(
        headline, "ok" if headline >= 20 else "BELOW TARGET"))


if __name__ == "__main__":
    main()
