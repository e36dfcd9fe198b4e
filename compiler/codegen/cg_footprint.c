/* cg_footprint.c: ram and flash of a point's build (see cg_footprint.h).
 *
 * The module is built and compiled exactly as `nasc build --emit obj`
 * builds it (same passes, memory plan, kernels and -O3 for this host), into
 * memory instead of a file; the object's ELF section headers then give the
 * flash bytes, and the module information the arena the code mallocs.
 * Parameters without weights get filler values: the sizes do not depend on
 * the values, as long as they are as varied as trained ones.
 */
#include "cg_footprint.h"
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include "cg_int8.h"
#include "cg_llvm.h"

/* A copy of g's node array whose missing weights point into a filler of
 * distinct pseudo-random values, a slice per parameter: identical arrays
 * would be merged by LLVM (ConstantMerge) and shrink the object. */
static ir_node *with_weights(const ir_graph *g, float **fill) {
    int64_t total = 1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_params; k++) total += ir_shape_numel(&g->nodes[i].params[k].shape);
    ir_node *nodes = malloc((size_t)g->n_nodes * sizeof *nodes + 1);
    *fill = malloc((size_t)total * sizeof **fill);
    if (!nodes || !*fill) {
        free(nodes);
        free(*fill);
        return NULL;
    }
    uint32_t r = 12345;
    for (int64_t i = 0; i < total; i++) { /* in [0.5, 1.5): positive, valid variances */
        r = r * 1664525u + 1013904223u;
        (*fill)[i] = 0.5f + (float)(r >> 8) / 16777216.0f;
    }
    memcpy(nodes, g->nodes, (size_t)g->n_nodes * sizeof *nodes);
    int64_t at = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < nodes[i].n_params; k++) {
            ir_param *p = &nodes[i].params[k];
            if (!p->data) p->data = *fill + at;
            at += ir_shape_numel(&p->shape);
        }
    return nodes;
}

/* Allocated section bytes of an ELF64 object, executable and other. */
static int elf_sizes(const unsigned char *p, size_t n, int64_t *code, int64_t *rest) {
    Elf64_Ehdr eh;
    if (n < sizeof eh) return -1;
    memcpy(&eh, p, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > n ||
        (n - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
        return -1;
    for (int i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, p + eh.e_shoff + (size_t)i * sizeof sh, sizeof sh);
        if (!(sh.sh_flags & SHF_ALLOC)) continue;
        *(sh.sh_flags & SHF_EXECINSTR ? code : rest) += (int64_t)sh.sh_size;
    }
    return 0;
}

static int compile_sizes(LLVMModuleRef m, cg_footprint *f, char *err, size_t errcap) {
    bool wide;
    LLVMTargetMachineRef tm = cg_cpu_tm(NULL, 3, &wide, err, errcap);
    if (!tm) return -1;
    int rc = cg_optimize(m, tm, 3, err, errcap);
    LLVMMemoryBufferRef buf = NULL;
    char *msg = NULL;
    if (!rc && LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMObjectFile, &msg, &buf)) {
        cg_llvm_err(err, errcap, "LLVM could not compile the module", msg);
        rc = -1;
    }
    if (!rc && elf_sizes((const unsigned char *)LLVMGetBufferStart(buf), LLVMGetBufferSize(buf),
                         &f->code_bytes, &f->const_bytes)) {
        snprintf(err, errcap, "internal error: LLVM's object is not ELF64");
        rc = -1;
    }
    if (buf) LLVMDisposeMemoryBuffer(buf);
    LLVMDisposeTargetMachine(tm);
    return rc;
}

int cg_footprint_of(const ir_graph *g, cg_footprint *f, char *err, size_t errcap) {
    return cg_footprint_ex(g, PS_QUANT_NONE, f, err, errcap);
}

int cg_footprint_ex(const ir_graph *g, ps_quant_kind quant, cg_footprint *f, char *err, size_t errcap) {
    memset(f, 0, sizeof *f);
    float *fill = NULL;
    ir_node *nodes = with_weights(g, &fill);
    if (!nodes) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    ir_graph gw = *g;
    gw.nodes = nodes;
    cg_llvm_init();
    LLVMContextRef C = LLVMContextCreate();
    bool wide = false;
    LLVMTargetMachineRef probe = cg_cpu_tm(NULL, 3, &wide, err, errcap);
    if (probe) LLVMDisposeTargetMachine(probe);
    ps_opts po = {.quant = quant}; /* int8: sizes do not depend on the calibrated ranges */
    cg_build_opts bo = {&po, true, wide, cg_i8_isa(NULL, NULL)}; /* as cg_emit builds for the host */
    LLVMModuleRef m = NULL;
    cg_modinfo info;
    int rc = probe ? cg_build_module(&gw, &bo, C, "nasc_footprint", &m, &info, err, errcap) : -1;
    if (!rc) rc = compile_sizes(m, f, err, errcap);
    if (!rc) {
        f->arena_bytes = 4 * (info.arena_floats + info.scratch_floats) + 64; /* build_body's malloc, tile 1 */
        f->io_bytes = 4 * (info.in_numel + info.out_numel);
        f->ram = f->arena_bytes + f->io_bytes;
        f->flash = f->code_bytes + f->const_bytes;
    }
    if (m) LLVMDisposeModule(m);
    LLVMContextDispose(C);
    free(nodes);
    free(fill);
    return rc;
}
