/* SPDX-License-Identifier: Apache-2.0 */
/*
 * onnx.h - writing a model as ONNX (onnx.proto, IR version 7, opset 13), encoded by hand: the
 * few messages needed (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
 * TypeProto, OperatorSetIdProto, StringStringEntryProto) in protobuf's wire format.
 *
 *   graph: features [N, D] float32 -> MatMul(W [D, C]) -> Add(b [C]) -> z [N, C]
 *          regressor, binary hinge: score = z
 *          binary logistic:         score = Sigmoid(z)
 *          multiclass:              score = Softmax(z, axis=1)
 *          predicted_label [N] int64: binary Greater(score, threshold) cast to int64;
 *                                     multiclass ArgMax(z, axis=1, keepdims=0);
 *                                     regressor: the score, reshaped to [N] (float32)
 */
#ifndef LL_ONNX_H
#define LL_ONNX_H
#include "linlearn.h"

/* Writes the ONNX encoding of m to w (not committed). */
ll_code onnx_write(const ll_model *m, ll_writer *w, ll_err *err);
#endif
