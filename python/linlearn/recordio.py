# SPDX-License-Identifier: Apache-2.0
"""RecordIO-protobuf in the SageMaker Python SDK's shape, encoded and decoded by linlearn's C
library.

write_numpy_to_dense_tensor / write_spmatrix_to_sparse_tensor / read_records take the SDK's
arguments, make the SDK's checks (same exception types and messages) and give its bytes; the
rows are encoded in C, several thousand per file.write call, instead of one protobuf message
a row in Python.
"""
import numpy as np

from . import _linlearn as _c

__all__ = [
    "write_numpy_to_dense_tensor",
    "write_spmatrix_to_sparse_tensor",
    "read_records",
    "read_recordio",
    "RecordWriter",
    "RecordReader",
    "Record",
    "Value",
    "Tensor",
]

# element codes of the C API (ll_elem)
_F32, _F64, _I32, _I64 = 1, 2, 3, 4
# rows per C call: about this many bytes of output each
_CHUNK_BYTES = 1 << 20


def _resolve_type(dtype):
    """The SDK's mapping: numpy's default int -> Int32 tensor, float -> Float64, float32."""
    if dtype == np.dtype(int):
        return "Int32"
    if dtype == np.dtype(float):
        return "Float64"
    if dtype == np.dtype("float32"):
        return "Float32"
    raise ValueError("Unsupported dtype {} on array".format(dtype))


def _elem(array):
    """The C element code for an array the SDK accepts (after _resolve_type)."""
    kind = _resolve_type(array.dtype)
    if kind == "Float32":
        return _F32
    if kind == "Float64":
        return _F64
    return _I64 if array.dtype.itemsize == 8 else _I32


def _native(a):
    """The array in native byte order (a copy only for a byte-swapped input)."""
    if not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


def _check_labels(array, labels):
    if not len(array.shape) == 2:
        raise ValueError("Array must be a Matrix")
    if labels is not None:
        if not len(labels.shape) == 1:
            raise ValueError("Labels must be a Vector")
        if labels.shape[0] not in array.shape:
            raise ValueError(
                "Label shape {} not compatible with array shape {}".format(
                    labels.shape, array.shape
                )
            )
        _resolve_type(labels.dtype)
    _resolve_type(array.dtype)


def _rows_per_chunk(row_bytes):
    return max(1, _CHUNK_BYTES // (row_bytes + 32))


def _label_args(labels, n_rows):
    """(labels array or None, element code, rows writable before the SDK's IndexError)."""
    if labels is None:
        return None, 0, n_rows
    lab = _native(np.asarray(labels))
    return lab, _elem(lab), min(n_rows, lab.shape[0])


def _index_error(n_labels):
    return IndexError(
        "index {} is out of bounds for axis 0 with size {}".format(n_labels, n_labels)
    )


def write_numpy_to_dense_tensor(file, array, labels=None):
    """Writes a numpy array to a dense tensor: one Record per row, as the SDK does."""
    _check_labels(array, labels)
    x = _native(np.asarray(array))
    xe = _elem(x)
    n_rows, n_cols = x.shape
    lab, le, n_ok = _label_args(labels, n_rows)
    step = _rows_per_chunk(n_cols * x.dtype.itemsize)
    _c.encode_dense(x, xe, lab, le, 0, n_ok, file.write, step)
    if n_ok < n_rows:
        raise _index_error(n_ok)


def _csr_parts(matrix):
    try:
        from scipy.sparse import issparse
    except ImportError:  # pragma: no cover - scipy is a dependency of sparse input
        raise TypeError("Array must be sparse")
    if not issparse(matrix):
        raise TypeError("Array must be sparse")
    return matrix.tocsr()


def write_spmatrix_to_sparse_tensor(file, array, labels=None):
    """Writes a scipy sparse matrix (CSR, CSC, COO, ...) to sparse tensors, as the SDK does:
    per row its stored values (explicit zeros included), keys and shape [n_cols]."""
    csr = _csr_parts(array)
    _check_labels(array, labels)
    n_rows, n_cols = csr.shape
    data = _native(np.ascontiguousarray(csr.data))
    # the SDK resolves the type from the matrix's dtype; CSR conversion keeps it
    xe = _elem(np.empty(0, dtype=array.dtype))
    indices = np.ascontiguousarray(csr.indices)
    indptr = np.ascontiguousarray(csr.indptr)
    if indices.dtype.kind != "i":
        indices = indices.astype(np.int64)
    if indptr.dtype.kind != "i":
        indptr = indptr.astype(np.int64)
    lab, le, n_ok = _label_args(labels, n_rows)
    nnz = max(1, indptr[-1] if n_rows else 1)
    step = _rows_per_chunk(int(12 * nnz // max(1, n_rows)) + 8)
    _c.encode_csr(data, xe, indices, indptr, n_rows, n_cols, lab, le, 0, n_ok, file.write, step)
    if n_ok < n_rows:
        raise _index_error(n_ok)


# ---- decoded Records: attribute access as on the SDK's record_pb2.Record ----

_DTYPES = {2: ("float32_tensor", np.float32), 3: ("float64_tensor", np.float64),
           7: ("int32_tensor", np.int32)}


class Tensor:
    """A Float32Tensor / Float64Tensor / Int32Tensor: values, keys and shape as numpy arrays."""

    __slots__ = ("values", "keys", "shape")

    def __init__(self, values, keys, shape):
        self.values, self.keys, self.shape = values, keys, shape

    def __repr__(self):
        return "Tensor(values={!r}, keys={!r}, shape={!r})".format(
            self.values, self.keys, self.shape)


class BytesValue:
    """A Bytes message: value (list of bytes) and content_type (str or None)."""

    __slots__ = ("value", "content_type")

    def __init__(self, value, content_type):
        self.value, self.content_type = value, content_type


class Value:
    """A Value: one of float32_tensor, float64_tensor, int32_tensor, bytes (see WhichOneof)."""

    def __init__(self, kind, member):
        self._kind, self._member = kind, member

    def WhichOneof(self, name="value"):
        return self._kind

    def HasField(self, name):
        return name == self._kind

    def __getattr__(self, name):
        if name in ("float32_tensor", "float64_tensor", "int32_tensor", "bytes"):
            if name == self._kind:
                return self._member
            if name == "bytes":
                return BytesValue([], None)
            return Tensor(np.empty(0, _DTYPES[{"float32_tensor": 2, "float64_tensor": 3,
                                                "int32_tensor": 7}[name]][1]),
                          np.empty(0, np.uint64), np.empty(0, np.uint64))
        raise AttributeError(name)

    @property
    def tensor(self):
        """The numeric tensor whatever its type (None for Bytes or an empty Value)."""
        return self._member if isinstance(self._member, Tensor) else None


class Record:
    """A decoded aialgs.data.Record: features and label (dict name -> Value), uid, metadata,
    configuration (str or None)."""

    __slots__ = ("features", "label", "uid", "metadata", "configuration")

    def __init__(self, features, label, uid=None, metadata=None, configuration=None):
        self.features, self.label = features, label
        self.uid, self.metadata, self.configuration = uid, metadata, configuration

    @classmethod
    def FromString(cls, payload):
        f, l, uid, meta, conf = _c.decode(payload)
        return cls(_values(f), _values(l), uid, meta, conf)

    def __repr__(self):
        return "Record(features={}, label={})".format(
            {k: v.WhichOneof() for k, v in self.features.items()},
            {k: v.WhichOneof() for k, v in self.label.items()})


def _values(entries):
    out = {}
    for name, dtype, present, vals, keys, shape in entries:
        if dtype == 9:
            out[name] = Value("bytes", BytesValue(vals, keys.decode("utf-8", "replace")
                                                  if keys is not None else None))
        elif dtype in _DTYPES:
            kind, npt = _DTYPES[dtype]
            out[name] = Value(kind, Tensor(np.frombuffer(vals, dtype=npt),
                                           np.frombuffer(keys, dtype=np.uint64),
                                           np.frombuffer(shape, dtype=np.uint64)))
        else:
            out[name] = Value(None, None)
    return out


def _payloads(file, concat=False):
    name = getattr(file, "name", None)
    rd = _c.RioReader(file.read, name if isinstance(name, str) else "file object",
                      1 if concat else 0)
    while True:
        p = rd.next_payload()
        if p is None:
            return
        yield p


def read_recordio(f):
    """Yields the payload (bytes) of every record of f (split records reassembled)."""
    return _payloads(f)


def read_records(file):
    """Eagerly read a collection of Records from file (a binary file object), as the SDK."""
    return [Record.FromString(p) for p in _payloads(file)]


class RecordWriter:
    """Streams rows to a binary file object as RecordIO-protobuf.

    w = RecordWriter(f); w.write(X, y); w.write(X2, y2); ...   # dense numpy or scipy.sparse
    Each write gives the bytes write_numpy_to_dense_tensor / write_spmatrix_to_sparse_tensor
    give for the same rows. Usable as a context manager (closes nothing it did not open:
    pass a path to have it opened and closed)."""

    def __init__(self, file):
        self._own = isinstance(file, (str, bytes)) or hasattr(file, "__fspath__")
        self._f = open(file, "wb") if self._own else file
        self.rows = 0

    def write(self, X, labels=None):
        if labels is not None:
            labels = np.asarray(labels)
        if hasattr(X, "tocsr") and not isinstance(X, np.ndarray):
            write_spmatrix_to_sparse_tensor(self._f, X, labels)
        else:
            X = np.asarray(X)
            if X.ndim == 1:
                X = X.reshape(1, -1)
            write_numpy_to_dense_tensor(self._f, X, labels)
        self.rows += X.shape[0]

    def close(self):
        if self._own and self._f is not None:
            self._f.close()
        self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RecordReader:
    """Iterates the rows of RecordIO-protobuf: (features, label) per record, features a
    1-D numpy array (dense) or a 1 x shape scipy.sparse.csr_matrix (sparse), label a numpy
    array (empty when the record has none). file: a binary file object or a path.
    concat=True reassembles split records as plain fragments instead of dmlc-core's way."""

    def __init__(self, file, concat=False):
        self._own = isinstance(file, (str, bytes)) or hasattr(file, "__fspath__")
        self._f = open(file, "rb") if self._own else file
        self._it = _payloads(self._f, concat)

    def __iter__(self):
        return self

    def __next__(self):
        payload = next(self._it)
        rec = Record.FromString(payload)
        fv = rec.features.get("values")
        t = fv.tensor if fv is not None else None
        if t is None:
            x = np.empty(0, np.float32)
        elif len(t.keys) or (len(t.shape) and not len(t.values)):
            from scipy.sparse import csr_matrix
            dim = int(np.prod(t.shape)) if len(t.shape) else int(t.keys.max()) + 1
            x = csr_matrix((t.values, t.keys.astype(np.int64),
                            np.array([0, len(t.values)])), shape=(1, dim))
        else:
            x = t.values
        lv = rec.label.get("values")
        lt = lv.tensor if lv is not None else None
        y = lt.values if lt is not None else np.empty(0, np.float32)
        return x, y

    def close(self):
        if self._own and self._f is not None:
            self._f.close()
        self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
