/* nasc/model.h: the calling convention of models compiled by nasc.
 *
 * `nasc build --emit obj|lib` produces an object or shared library with
 * one entry point and a generated header (e.g. model.h next to model.so)
 * that declares it with its sizes:
 *
 *     #define NASC_<SYM>_INPUT_SIZE  784     floats per input sample
 *     #define NASC_<SYM>_OUTPUT_SIZE 10      floats per output sample
 *     #define NASC_<SYM>_INPUT_RANK / _INPUT_SHAPE { ... } (per sample)
 *     int <sym>(const float *in, float *out, int64_t batch);
 *
 * in holds batch samples back to back (row-major per sample, as training
 * saw them), out receives batch outputs.  The function returns 0, or -1
 * if it could not allocate its scratch memory.  It is reentrant (no global
 * state), and in and out must not overlap.  This header needs nothing but
 * <stdint.h>; the generated one does not include it.
 */
#ifndef NASC_MODEL_H
#define NASC_MODEL_H

#include <stdint.h>

typedef int (*nasc_model_fn)(const float *in, float *out, int64_t batch);

#endif
