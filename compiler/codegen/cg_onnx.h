/* cg_onnx.h: `nasc build --emit onnx`: a trained point as an ONNX model.
 *
 * The model is standard ONNX (opset CG_ONNX_OPSET, default domain only):
 * one input "input" of [batch, sample shape] raw floats (the same inputs
 * `nasc run` reads: pixels in [0, 1]), one output "output" of [batch,
 * output shape].  The input standardisation the weights carry is part of
 * the graph (Reshape, Sub, Div), so a consumer feeds raw inputs.  Weights
 * are float initializers named as in the safetensors file; batchnorm is
 * exported as BatchNormalization (not folded), so the ONNX graph mirrors the
 * point layer for layer.  The point JSON and the space's name go in the
 * metadata ("nasc.point", "nasc.space", "nasc.normalize").
 *
 * The protobuf code is generated at build time by protoc-c from ONNX's own
 * onnx.proto (CMakeLists.txt); this module only reads the graph.
 */
#ifndef NASC_CG_ONNX_H
#define NASC_CG_ONNX_H

#include <stddef.h>
#include "graph.h"

#define CG_ONNX_OPSET 17 /* LayerNormalization is in the default domain from 17 */

/* Writes g (with its weights loaded) to out_path through a temporary file
 * renamed into place, so a failure leaves no OUT behind.  point_json may be
 * NULL.  0, or -1 with a message in err (an operation that has no ONNX
 * form is named there). */
int cg_onnx_write(const ir_graph *g, const char *point_json, const char *out_path, char *err, size_t errcap);

#endif
