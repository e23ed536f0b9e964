# SPDX-License-Identifier: Apache-2.0
# sdk_writer.py CSV OUT - CSV -> RecordIO-protobuf the way the SageMaker Python SDK does it
# (sagemaker.amazon.common.write_numpy_to_dense_tensor): the CSV loaded into numpy, then one
# protobuf Record a row (features["values"].float32_tensor, label["values"]), each framed as
# MXNet RecordIO (magic 0xced7230a, length, payload padded to 4 bytes). The SDK loads CSV with
# pandas; pandas is not installed here, so numpy.loadtxt loads it (faster than pandas.read_csv
# on this machine: shared/bench/README.md). The Record message is built from its descriptor
# (tests/record.proto's fields), as protoc's generated module would be. Prints seconds.
import struct
import sys
import time

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def record_class():
    fdp = descriptor_pb2.FileDescriptorProto(name="record.proto", package="aialgs.data",
                                             syntax="proto2")
    t = fdp.message_type.add(name="Float32Tensor")
    F = descriptor_pb2.FieldDescriptorProto
    for name, num, typ in (("values", 1, F.TYPE_FLOAT), ("keys", 2, F.TYPE_UINT64),
                           ("shape", 3, F.TYPE_UINT64)):
        f = t.field.add(name=name, number=num, type=typ, label=F.LABEL_REPEATED)
        f.options.packed = True
    v = fdp.message_type.add(name="Value")
    v.oneof_decl.add(name="value")
    v.field.add(name="float32_tensor", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                type_name=".aialgs.data.Float32Tensor", oneof_index=0)
    r = fdp.message_type.add(name="Record")
    for name, num in (("features", 1), ("label", 2)):
        e = r.nested_type.add(name=name.capitalize() + "Entry")
        e.options.map_entry = True
        e.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
        e.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    type_name=".aialgs.data.Value")
        r.field.add(name=name, number=num, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                    type_name=".aialgs.data.Record." + name.capitalize() + "Entry")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("aialgs.data.Record")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def main():
    src, out = sys.argv[1], sys.argv[2]
    Record = record_class()
    t = time.time()
    a = np.loadtxt(src, delimiter=",", dtype=np.float32)
    labels, X = a[:, 0], a[:, 1:]
    with open(out, "wb") as f:
        for i in range(X.shape[0]):
            rec = Record()
            rec.features["values"].float32_tensor.values.extend(X[i].tolist())
            rec.label["values"].float32_tensor.values.extend([float(labels[i])])
            b = rec.SerializeToString()
            f.write(struct.pack("<II", 0xCED7230A, len(b)))
            f.write(b)
            f.write(b"\0" * ((4 - len(b) % 4) % 4))
    print("%.3f" % (time.time() - t))


main()
