# SPDX-License-Identifier: Apache-2.0
"""The SDK functions against the SDK-style reference on generated inputs: dtypes, layouts
(CSR/CSC/COO, strided, Fortran order), SDK errors, C errors as exceptions, streaming, leaks."""
import io
import os
import resource

import numpy as np
import pytest
import scipy.sparse as sp

import linlearn
import sdk_reference as sdk


def both(fn_name, X, y=None):
    a, b = io.BytesIO(), io.BytesIO()
    getattr(linlearn, fn_name)(a, X, y)
    getattr(sdk, fn_name)(b, X, y)
    return a.getvalue(), b.getvalue()


RNG = np.random.RandomState(7)


@pytest.mark.parametrize("xdt", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("ydt", [None, np.float32, np.float64, np.int64])
def test_dense_dtypes(xdt, ydt):
    X = (RNG.randn(50, 9) * 100).astype(xdt)
    y = None if ydt is None else (RNG.rand(50) * 5).astype(ydt)
    ours, ref = both("write_numpy_to_dense_tensor", X, y)
    assert ours == ref and len(ours) > 0


def test_dense_negative_ints_and_specials():
    X = np.array([[-1, 0, 2**31 - 1, -2**31]], dtype=np.int64)
    ours, ref = both("write_numpy_to_dense_tensor", X, np.array([-5]))
    assert ours == ref
    F = np.array([[np.inf, -np.inf, -0.0, 1e-45, 3.4e38]], dtype=np.float32)
    ours, ref = both("write_numpy_to_dense_tensor", F, np.array([np.nan], dtype=np.float32))
    assert ours == ref


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed", "transposed"])
def test_dense_layouts(layout):
    base = RNG.randn(40, 30).astype(np.float32)
    X = {"fortran": np.asfortranarray(base), "strided": base[::3, ::2],
         "reversed": base[::-1, ::-1], "transposed": base.T}[layout]
    y = RNG.rand(X.shape[0]).astype(np.float32)[::1]
    ours, ref = both("write_numpy_to_dense_tensor", X, y)
    assert ours == ref


def test_strided_labels_and_byteswapped():
    X = RNG.randn(10, 3).astype(">f4")
    with pytest.raises(ValueError):  # the SDK refuses big-endian float32 too
        sdk.write_numpy_to_dense_tensor(io.BytesIO(), X)
    with pytest.raises(ValueError):
        linlearn.write_numpy_to_dense_tensor(io.BytesIO(), X)
    Y = RNG.rand(20).astype(np.float32)[::2]
    X = RNG.randn(10, 3).astype(np.float32)
    ours, ref = both("write_numpy_to_dense_tensor", X, Y)
    assert ours == ref


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok"])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64])
def test_sparse_formats(fmt, dt):
    M = sp.random(30, 17, density=0.2, random_state=3, format="csr") * 50
    M = M.astype(dt).asformat(fmt)
    y = RNG.rand(30).astype(np.float32)
    ours, ref = both("write_spmatrix_to_sparse_tensor", M, y)
    assert ours == ref
    ours, ref = both("write_spmatrix_to_sparse_tensor", M)
    assert ours == ref


def test_sparse_explicit_zeros_unsorted_duplicates():
    data = np.array([0.0, 2.0, 1.0, 5.0, 5.0], dtype=np.float32)
    ind = np.array([3, 1, 0, 2, 2], dtype=np.int32)
    ptr = np.array([0, 3, 3, 5], dtype=np.int32)
    M = sp.csr_matrix((data, ind, ptr), shape=(3, 4))
    ours, ref = both("write_spmatrix_to_sparse_tensor", M, np.array([1, 0, 1]))
    assert ours == ref
    coo = sp.coo_matrix((data, (np.array([0, 0, 2, 2, 2]), ind)), shape=(3, 4))
    ours, ref = both("write_spmatrix_to_sparse_tensor", coo)
    assert ours == ref


def test_sparse_int64_indices():
    M = sp.random(8, 5, density=0.5, random_state=1, format="csr", dtype=np.float32)
    M.indices = M.indices.astype(np.int64)
    M.indptr = M.indptr.astype(np.int64)
    ours, ref = both("write_spmatrix_to_sparse_tensor", M)
    assert ours == ref


@pytest.mark.parametrize("call,exc,msg", [
    (lambda f: f(io.BytesIO(), np.zeros(3, np.float32)), ValueError, "Array must be a Matrix"),
    (lambda f: f(io.BytesIO(), np.zeros((3, 2), np.float32), np.zeros((3, 1))), ValueError,
     "Labels must be a Vector"),
    (lambda f: f(io.BytesIO(), np.zeros((3, 2), np.float32), np.zeros(4)), ValueError,
     "Label shape (4,) not compatible with array shape (3, 2)"),
    (lambda f: f(io.BytesIO(), np.zeros((3, 2), np.int32)), ValueError,
     "Unsupported dtype int32 on array"),
    (lambda f: f(io.BytesIO(), np.zeros((3, 2), np.float16)), ValueError,
     "Unsupported dtype float16 on array"),
])
def test_sdk_errors_dense(call, exc, msg):
    for mod in (linlearn, sdk):
        with pytest.raises(exc) as e:
            call(mod.write_numpy_to_dense_tensor)
        assert str(e.value) == msg


def test_sdk_errors_sparse():
    for mod in (linlearn, sdk):
        with pytest.raises(TypeError, match="Array must be sparse"):
            mod.write_spmatrix_to_sparse_tensor(io.BytesIO(), np.zeros((2, 2)))


def test_labels_matching_columns_not_rows():
    # the SDK accepts labels as long as the columns, then fails at the first missing label
    X = np.zeros((5, 3), np.float32)
    y = np.arange(3, dtype=np.float32)
    a, b = io.BytesIO(), io.BytesIO()
    with pytest.raises(IndexError):
        sdk.write_numpy_to_dense_tensor(b, X, y)
    with pytest.raises(IndexError):
        linlearn.write_numpy_to_dense_tensor(a, X, y)
    assert a.getvalue() == b.getvalue()


def test_int64_out_of_int32_range_is_a_c_error():
    X = np.array([[1, 2**40]], dtype=np.int64)
    with pytest.raises(ValueError):
        sdk.write_numpy_to_dense_tensor(io.BytesIO(), X)
    with pytest.raises(linlearn.ArgumentError) as e:
        linlearn.write_numpy_to_dense_tensor(io.BytesIO(), X)
    assert "row 0, column 1" in str(e.value) and "int32" in str(e.value)
    assert e.value.code == 5 and "does not fit" in e.value.c_message


def test_read_errors_carry_offsets(recordio_dir):
    with open(os.path.join(recordio_dir, "dense_f32_labeled_7x5.pbr"), "rb") as f:
        data = f.read()
    with pytest.raises(linlearn.ParseError) as e:
        linlearn.read_records(io.BytesIO(data[:100]))
    assert e.value.offset == 64 and e.value.record == 1
    assert "byte 64" in str(e.value)
    bad = bytearray(data)
    bad[64] = 0
    with pytest.raises(linlearn.ParseError, match="magic"):
        list(linlearn.RecordReader(io.BytesIO(bytes(bad))))


def test_read_error_from_file_names_it(tmp_path):
    p = tmp_path / "broken.pbr"
    p.write_bytes(b"\x0a\x23\xd7\xce\x10\x00\x00\x00abc")
    with pytest.raises(linlearn.Error) as e:
        with open(p, "rb") as f:
            linlearn.read_records(f)
    assert "broken.pbr" in str(e.value) and e.value.src.endswith("broken.pbr")


def test_reader_propagates_python_errors():
    class Boom(io.RawIOBase):
        def read(self, n=-1):
            raise OSError("disk on fire")
    with pytest.raises(OSError, match="disk on fire"):
        linlearn.read_records(Boom())


def test_record_reader_dense_and_sparse(tmp_path):
    X = RNG.randn(20, 4).astype(np.float32)
    y = np.arange(20, dtype=np.float32)
    S = sp.random(6, 9, density=0.3, random_state=2, format="csr", dtype=np.float32)
    p = tmp_path / "mixed.pbr"
    with linlearn.RecordWriter(str(p)) as w:
        w.write(X, y)
        w.write(S)
    rows = list(linlearn.RecordReader(str(p)))
    assert len(rows) == 26
    for i in range(20):
        np.testing.assert_array_equal(rows[i][0], X[i])
        assert rows[i][1].tolist() == [float(i)]
    for i in range(6):
        x, lab = rows[20 + i]
        assert sp.issparse(x) and x.shape == (1, 9)
        np.testing.assert_array_equal(x.toarray()[0], S[i].toarray()[0])
        assert len(lab) == 0


def test_read_records_mlio_files(data_dir):
    d = os.path.join(data_dir, "sagemaker", "recordio-mlio")
    with open(os.path.join(d, "complete_records.pr"), "rb") as f:
        whole = linlearn.read_records(f)
    with open(os.path.join(d, "split_records.pr"), "rb") as f:
        split = [linlearn.Record.FromString(p)
                 for p in linlearn.recordio._payloads(f, concat=True)]
    assert len(whole) == len(split) == 5
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a.features["values"].float32_tensor.values,
                                      b.features["values"].float32_tensor.values)
    assert [r.label["values"].tensor.values[0] for r in whole] == [1, 2, 3, 4, 5]


def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_no_leaks_writer_reader_1000_times():
    X = RNG.randn(200, 50).astype(np.float32)
    y = RNG.rand(200).astype(np.float32)
    S = sp.random(200, 50, density=0.1, random_state=1, format="csr", dtype=np.float32)

    def once():
        b = io.BytesIO()
        linlearn.write_numpy_to_dense_tensor(b, X, y)
        linlearn.write_spmatrix_to_sparse_tensor(b, S, y)
        b.seek(0)
        n = len(linlearn.read_records(b))
        assert n == 400
        try:
            linlearn.write_numpy_to_dense_tensor(io.BytesIO(), np.array([[2**40]]))
        except linlearn.ArgumentError:
            pass

    for _ in range(50):
        once()
    before = rss_kb()
    for _ in range(1000):
        once()
    grown = rss_kb() - before
    # one pass moves ~100 KB; a leak of even one buffer per call would add ~100 MB
    assert grown < 8 * 1024, "RSS grew by {} KiB over 1000 runs".format(grown)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
