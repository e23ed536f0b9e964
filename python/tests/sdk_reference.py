# SPDX-License-Identifier: Apache-2.0
"""The SageMaker Python SDK's record writer and reader, re-implemented for the tests and the
benchmark (the SDK itself is not installable here): one protobuf Record message a row, built
with python3-protobuf from tests/record.proto's schema (constructed with descriptor_pb2, so no
protoc is needed), serialised and framed exactly as src/sagemaker/serializer_utils.py does."""
import struct

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_KMAGIC = 0xCED7230A
_PADDING = {0: b"", 1: b"\x00", 2: b"\x00\x00", 3: b"\x00\x00\x00"}


def _build_record_class():
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.name = "linlearn_tests_record.proto"
    fdp.package = "aialgs.data"
    fdp.syntax = "proto2"
    F = descriptor_pb2.FieldDescriptorProto

    def tensor(name, vtype):
        m = fdp.message_type.add(name=name)
        for num, fname, t in ((1, "values", vtype), (2, "keys", F.TYPE_UINT64),
                              (3, "shape", F.TYPE_UINT64)):
            f = m.field.add(name=fname, number=num, type=t, label=F.LABEL_REPEATED)
            f.options.packed = True

    tensor("Float32Tensor", F.TYPE_FLOAT)
    tensor("Float64Tensor", F.TYPE_DOUBLE)
    tensor("Int32Tensor", F.TYPE_INT32)
    b = fdp.message_type.add(name="Bytes")
    b.field.add(name="value", number=1, type=F.TYPE_BYTES, label=F.LABEL_REPEATED)
    b.field.add(name="content_type", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    v = fdp.message_type.add(name="Value")
    v.oneof_decl.add(name="value")
    for num, fname, tname in ((2, "float32_tensor", "Float32Tensor"),
                              (3, "float64_tensor", "Float64Tensor"),
                              (7, "int32_tensor", "Int32Tensor"), (9, "bytes", "Bytes")):
        v.field.add(name=fname, number=num, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".aialgs.data." + tname, oneof_index=0)
    r = fdp.message_type.add(name="Record")
    for num, fname, entry in ((1, "features", "FeaturesEntry"), (2, "label", "LabelEntry")):
        e = r.nested_type.add(name=entry)
        e.options.map_entry = True
        e.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
        e.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".aialgs.data.Value")
        r.field.add(name=fname, number=num, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                    type_name=".aialgs.data.Record." + entry)
    for num, fname in ((3, "uid"), (4, "metadata"), (5, "configuration")):
        r.field.add(name=fname, number=num, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("aialgs.data.Record")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


Record = _build_record_class()


def _resolve_type(dtype):
    if dtype == np.dtype(int):
        return "Int32"
    if dtype == np.dtype(float):
        return "Float64"
    if dtype == np.dtype("float32"):
        return "Float32"
    raise ValueError("Unsupported dtype {} on array".format(dtype))


def _tensor(value, resolved):
    return {"Int32": value.int32_tensor, "Float64": value.float64_tensor,
            "Float32": value.float32_tensor}[resolved]


def _write_recordio(f, data):
    length = len(data)
    f.write(struct.pack("I", _KMAGIC))
    f.write(struct.pack("I", length))
    pad = (((length + 3) >> 2) << 2) - length
    f.write(data)
    f.write(_PADDING[pad])


def _check(array, labels):
    if not len(array.shape) == 2:
        raise ValueError("Array must be a Matrix")
    if labels is not None:
        if not len(labels.shape) == 1:
            raise ValueError("Labels must be a Vector")
        if labels.shape[0] not in array.shape:
            raise ValueError("Label shape {} not compatible with array shape {}".format(
                labels.shape, array.shape))
        return _resolve_type(labels.dtype)
    return None


def write_numpy_to_dense_tensor(file, array, labels=None):
    lt = _check(array, labels)
    rt = _resolve_type(array.dtype)
    record = Record()
    for index, vector in enumerate(array):
        record.Clear()
        _tensor(record.features["values"], rt).values.extend(vector)
        if labels is not None:
            _tensor(record.label["values"], lt).values.extend([labels[index]])
        _write_recordio(file, record.SerializeToString())


def write_spmatrix_to_sparse_tensor(file, array, labels=None):
    from scipy.sparse import issparse
    if not issparse(array):
        raise TypeError("Array must be sparse")
    lt = _check(array, labels)
    rt = _resolve_type(array.dtype)
    csr = array.tocsr()
    n_rows, n_cols = csr.shape
    record = Record()
    for row_idx in range(n_rows):
        record.Clear()
        row = csr.getrow(row_idx)
        t = _tensor(record.features["values"], rt)
        t.values.extend(row.data)
        t.keys.extend(row.indices.astype(np.uint64))
        if labels is not None:
            _tensor(record.label["values"], lt).values.extend([labels[row_idx]])
        _tensor(record.features["values"], rt).shape.extend([n_cols])
        _write_recordio(file, record.SerializeToString())


def read_recordio(f):
    while True:
        try:
            (magic,) = struct.unpack("I", f.read(4))
        except struct.error:
            return
        assert magic == _KMAGIC
        (length,) = struct.unpack("I", f.read(4))
        pad = (((length + 3) >> 2) << 2) - length
        yield f.read(length)
        if pad:
            f.read(pad)


def read_records(file):
    out = []
    for data in read_recordio(file):
        r = Record()
        r.ParseFromString(data)
        out.append(r)
    return out


def api_implementation():
    """Which protobuf backend runs the reference ("cpp", "upb" or "python")."""
    from google.protobuf.internal import api_implementation as a
    return a.Type()
