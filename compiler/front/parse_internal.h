/* parse_internal.h: the seam between parse.c, the flex scanner and the bison
 * parser (grammar/), and the token dump the lexer tests use.
 *
 * Kept out of ast.h because only the front end's own parsing code and its
 * tests need the scanner handle and the generated token kinds.
 */
#ifndef NASC_PARSE_INTERNAL_H
#define NASC_PARSE_INTERNAL_H

#include "ast.h"
#include "parser.h"

/* The parser's state: where items go and which file is being read. */
typedef struct pctx {
    nasc_ctx *c;
    int file;
    ast_file *out;
} pctx;

/* Opens a scanner on registered file `file`; NULL only when out of memory. */
void *lx_open(nasc_ctx *c, int file);
void lx_close(void *scanner);
/* Where the scanner jumps on a fatal flex error (out of memory), so that the
 * library never exits; NULL restores "no handler" (then it aborts). */
void lx_set_fatal(void *scanner, void *jmp_buf_ptr);
/* The next token, with the newline rule applied (what the parser sees). */
int nas_lex(NAS_STYPE *v, loc *at, void *scanner);
/* The token just returned was a `)` or `]` the scanner made up before a `}`
 * (the missing bracket is already reported). */
bool lx_last_was_synthetic(void *scanner);
void nas_error(loc *at, void *scanner, pctx *p, const char *msg);
/* Under a syntax error right after a misspelt keyword (`retrun x`,
 * `maximise accuracy`), a did-you-mean note on that word. */
void parse_note_keyword(nasc_ctx *c, diag *d, loc at);

/* Tokenizes a registered file into a space-separated dump, e.g.
 * `let id(x) = int(3) NL`; with_locs appends `@line:col+len` to each token.
 * Lexer errors become diagnostics in c, as when parsing. */
char *parse_lex_dump(nasc_ctx *c, int file, bool with_locs);

#endif
