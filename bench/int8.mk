# bench/int8.mk: builds bench/int8_bench (int8 vs fp32 speed) against the static libraries
# CMake build directory (bench/CMakeLists.txt belongs to the training bench).
#   cmake --build build --target nasc_codegen -j2
#   make -f bench/int8.mk BUILD=build          # from the repository root
#   /usr/bin/python3 bench/infer_torch.py --bench build/int8_bench
BUILD ?= build
CC ?= cc
INC = -Iinclude -Icommon -Icompiler/ir -Icompiler/passes -Icompiler/codegen -Iruntime -Itests
LIBS = $(BUILD)/libnasc_codegen.a $(BUILD)/libnasc_passes.a $(BUILD)/libnasc_runtime.a $(BUILD)/libnasc_ir.a \
       $(BUILD)/libnasc_common.a \
       -L/usr/lib/llvm-19/lib -lLLVM-19 -lopenblas -lz -lm -lpthread

$(BUILD)/int8_bench: bench/int8_bench.c $(BUILD)/libnasc_codegen.a $(BUILD)/libnasc_runtime.a
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror $(INC) $< $(LIBS) -o $@
