/* test_front_lexer.c: the tokens of language.md section 1 and the newline rule.
 *
 * Each test tokenizes a small source through parse_lex_dump (the same
 * scanner the parser uses, newline rule included) and compares the dump,
 * or the diagnostics, with what the language reference says.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "parse_internal.h"

static nasc_ctx *C;

static void setup(void) { C = ctx_new(); }
static void teardown(void) { ctx_destroy(C); }

TestSuite(lexer, .init = setup, .fini = teardown, .timeout = 10);

static const char *lex_n(const char *src, size_t n, bool locs) {
    int f = ctx_add_file(C, "t.nas", src, n);
    return parse_lex_dump(C, f, locs);
}
static const char *lex(const char *src) { return lex_n(src, strlen(src), false); }
static const char *lexl(const char *src) { return lex_n(src, strlen(src), true); }

/* The first diagnostic's message and position, as "line:col: msg". */
static const char *first_diag(void) {
    if (!C->diags) return "(none)";
    return arena_printf(&C->A, "%d:%d: %s", C->diags->at.line, C->diags->at.col, C->diags->msg);
}

static int count_diags(void) {
    int n = 0;
    for (diag *d = C->diags; d; d = d->next) n++;
    return n;
}

Test(lexer, keywords) {
    const char *src = "import enum block space train search let for in if else return require choice of "
                      "step log true false and or not maximize minimize int float bool Tensor";
    /* `Tensor` can't end a statement, so no NL at end of input. */
    cr_assert_str_eq(lex(src),
                     "import enum block space train search let for in if else return require choice "
                     "of step log true false and or not maximize minimize int float bool Tensor");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, identifiers) {
    cr_assert_str_eq(lex("x _y conv3x3 Tensor2 imports iff A_b_9"),
                     "id(x) id(_y) id(conv3x3) id(Tensor2) id(imports) id(iff) id(A_b_9) NL");
}

Test(lexer, integers_and_separators) {
    cr_assert_str_eq(lex("0 42 1_000 12_345_678 9223372036854775807"),
                     "int(0) int(42) int(1000) int(12345678) int(9223372036854775807) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, integer_suffixes) {
    cr_assert_str_eq(lex("100k 100K 5M 2G 1_000k"),
                     "int(100000) int(100000) int(5000000) int(2000000000) int(1000000) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, decimal_with_suffix_is_int_when_exact) {
    cr_assert_str_eq(lex("1.5M 0.1k 2.5G 1.25k 0.0005k"),
                     "int(1500000) int(100) int(2500000000) int(1250) float(0.5) NL");
}

Test(lexer, floats) {
    cr_assert_str_eq(lex("0.5 1e-3 .25 2.5e3 1E+2 3.0"),
                     "float(0.5) float(0.001) float(0.25) float(2500) float(100) float(3) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, range_is_not_a_float) {
    cr_assert_str_eq(lex("1..4"), "int(1) .. int(4) NL");
    cr_assert_str_eq(lex("a..b"), "id(a) .. id(b) NL");
    cr_assert_str_eq(lex("0.5..1.5"), "float(0.5) .. float(1.5) NL");
}

Test(lexer, durations_in_seconds) {
    cr_assert_str_eq(lex("300us 2ms 1s 15m 2h 1.5s 5ns"),
                     "time(0.00029999999999999997) time(0.002) time(1) time(900) time(7200) time(1.5) "
                     "time(5.0000000000000001e-09) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, sizes_are_binary) {
    cr_assert_str_eq(lex("8B 64KB 2MB 1GB 1KiB 0.5MB"),
                     "bytes(8) bytes(65536) bytes(2097152) bytes(1073741824) bytes(1024) bytes(524288) NL");
}

Test(lexer, bad_suffix_is_error) {
    cr_assert_str_eq(lex("x = 3x3"), "id(x) = int(0) NL");
    cr_assert_eq(C->n_errors, 1);
    cr_assert(strstr(first_diag(), "1:5: unknown suffix 'x3' on number"), "%s", first_diag());
}

Test(lexer, integer_overflow_is_error) {
    lex("9223372036854775808");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "1:1: integer literal too large");
}

Test(lexer, suffix_overflow_is_error) {
    lex("\n  10000000000G");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "2:3: integer literal too large");
}

Test(lexer, float_overflow_is_error) {
    lex("1e999");
    cr_assert_str_eq(first_diag(), "1:1: number literal too large");
}

Test(lexer, misplaced_underscore) {
    lex("1_");
    cr_assert_str_eq(first_diag(), "1:1: malformed number '1_'");
}

Test(lexer, strings_and_escapes) {
    cr_assert_str_eq(lex("\"abc\" \"\" \"q\\\"x\" \"b\\\\s\" \"n\\nt\\t\""),
                     "str(abc) str() str(q\"x) str(b\\s) str(n\\nt\\t) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, utf8_inside_strings_is_fine) {
    cr_assert_str_eq(lex("\"caf\xc3\xa9\""), "str(caf\xc3\xa9) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, unknown_escape) {
    cr_assert_str_eq(lex("x = \"a\\qb\""), "id(x) = str(aqb) NL");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "1:7: unknown escape sequence '\\q' in string");
}

Test(lexer, newline_in_string) {
    cr_assert_str_eq(lex("s = \"abc\ny = 1"), "id(s) = str(abc) NL id(y) = int(1) NL");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "1:5: unterminated string literal (strings end on the same line)");
}

Test(lexer, unterminated_string_at_eof) {
    lex("\"abc");
    cr_assert_str_eq(first_diag(), "1:1: unterminated string literal (strings end on the same line)");
}

Test(lexer, operators) {
    cr_assert_str_eq(lex("+ - * / % ^ == != < <= > >= = , ; : . .. -> ( ) [ ] { }"),
                     "+ - * / % ^ == != < <= > >= = , ; : . .. -> ( ) [ ] { } NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, operators_without_spaces) {
    cr_assert_str_eq(lex("a<=b->c==d!=e..f"), "id(a) <= id(b) -> id(c) == id(d) != id(e) .. id(f) NL");
}

Test(lexer, comments) {
    cr_assert_str_eq(lex("a // line comment ) (\nb /* block */ c /* x\n y */ d"),
                     "id(a) NL id(b) id(c) NL id(d) NL");
    cr_assert_eq(C->n_errors, 0);
}

Test(lexer, block_comments_do_not_nest) { cr_assert_str_eq(lex("a /* x /* y */ b */"), "id(a) id(b) * /"); }

Test(lexer, unterminated_block_comment) {
    cr_assert_str_eq(lex("a = 1\n  /* open\n more"), "id(a) = int(1) NL");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "2:3: unterminated block comment");
}

Test(lexer, newline_after_closers) {
    cr_assert_str_eq(lex("a\n1\n0.5\n1s\n\"s\"\ntrue\nfalse\nf()\nt[1]\n{}\nreturn\nx"),
                     "id(a) NL int(1) NL float(0.5) NL time(1) NL str(s) NL true NL false NL "
                     "id(f) ( ) NL id(t) [ int(1) ] NL { } NL return NL id(x) NL");
}

Test(lexer, no_newline_after_operators_and_commas) {
    cr_assert_str_eq(lex("a +\nb ,\nc =\nd and\ne -> \nf {\ng :\nh"),
                     "id(a) + id(b) , id(c) = id(d) and id(e) -> id(f) { id(g) : id(h) NL");
}

Test(lexer, no_newline_after_keywords_that_continue) {
    cr_assert_str_eq(lex("let\nx = choice\n{1}\nmaximize\nacc"),
                     "let id(x) = choice { int(1) } NL maximize id(acc) NL");
}

Test(lexer, newline_after_log) {
    cr_assert_str_eq(lex("lr = choice [1, 2] log\nx"), "id(lr) = choice [ int(1) , int(2) ] log NL id(x) NL");
}

Test(lexer, no_newline_inside_parens_or_brackets) {
    cr_assert_str_eq(lex("f(a\n, b\n)\nT[1\n,2\n]\n"),
                     "id(f) ( id(a) , id(b) ) NL id(T) [ int(1) , int(2) ] NL");
}

Test(lexer, braces_inside_parens_allow_newlines) {
    cr_assert_str_eq(lex("f(choice {a\n})\n"), "id(f) ( choice { id(a) NL } ) NL");
}

Test(lexer, closing_brace_closes_unclosed_parens) {
    /* The `(` left open inside the braces must not eat later newlines. */
    cr_assert_str_eq(lex("{ f( }\na\nb"), "{ id(f) ( ) } NL id(a) NL id(b) NL");
    cr_assert_eq(C->n_errors, 1);
    cr_assert_str_eq(first_diag(), "1:6: expected ')' before '}' to close the '(' at line 1, column 4");
}

Test(lexer, blank_lines_give_one_newline) {
    cr_assert_str_eq(lex("a\n\n\n  \n// c\nb"), "id(a) NL id(b) NL");
}

Test(lexer, brace_newline_else_is_joined) {
    cr_assert_str_eq(lex("}\n\n  // note\nelse {"), "} else {");
    cr_assert_str_eq(lex("}\nx"), "} NL id(x) NL");
    cr_assert_str_eq(lex("}\n"), "} NL");
}

Test(lexer, semicolon_is_a_token) { cr_assert_str_eq(lex("a; b"), "id(a) ; id(b) NL"); }

Test(lexer, eof_ends_last_statement) {
    cr_assert_str_eq(lex("return x"), "return id(x) NL");
    cr_assert_str_eq(lex("x +"), "id(x) +");
    cr_assert_str_eq(lex(""), "");
}

Test(lexer, bad_characters_are_reported_and_skipped) {
    cr_assert_str_eq(lex("a $ b\n  @c"), "id(a) id(b) NL id(c) NL");
    cr_assert_eq(count_diags(), 2);
    cr_assert_str_eq(first_diag(), "1:3: unexpected character '$'");
    cr_assert_str_eq(C->diags->next->msg, "unexpected character '@'");
    cr_assert_eq(C->diags->next->at.line, 2);
    cr_assert_eq(C->diags->next->at.col, 3);
}

Test(lexer, nul_and_high_bytes) {
    static const char src[] = "a \0 b \xff\xfe c \x01";
    cr_assert_str_eq(lex_n(src, sizeof src - 1, false), "id(a) id(b) id(c) NL");
    cr_assert_eq(count_diags(), 3);
    cr_assert_str_eq(first_diag(), "1:3: unexpected byte 0x00");
    cr_assert_str_eq(C->diags->next->msg, "unexpected byte 0xff");
    cr_assert_str_eq(C->diags->next->next->msg, "unexpected byte 0x01");
}

Test(lexer, nul_inside_string) {
    static const char src[] = "\"a\0b\"";
    lex_n(src, sizeof src - 1, false);
    cr_assert_str_eq(first_diag(), "1:3: NUL byte in string literal");
}

Test(lexer, locations) {
    cr_assert_str_eq(lexl("let width = 64\n\tx(1_000)"),
                     "let@1:1+3 id(width)@1:5+5 =@1:11+1 int(64)@1:13+2 NL@1:15+1 "
                     "id(x)@2:2+1 (@2:3+1 int(1000)@2:4+5 )@2:9+1 NL@2:10+0");
}

Test(lexer, deep_nesting_is_reported_once) {
    char *src = malloc(2001);
    memset(src, '[', 2000);
    src[2000] = 0;
    lex(src);
    free(src);
    cr_assert_eq(count_diags(), 1);
    cr_assert(strstr(C->diags->msg, "nested too deeply"));
    cr_assert_eq(C->diags->at.col, 257);
}

Test(lexer, statement_size_limit_resets_at_terminators) {
    /* 600 operators on each of two lines is fine; 1001 on one line is not. */
    char *src = malloc(8000);
    strcpy(src, "a");
    for (int i = 0; i < 600; i++) strcat(src, "+a");
    strcat(src, "\na");
    for (int i = 0; i < 600; i++) strcat(src, "+a");
    lex(src);
    cr_assert_eq(C->n_errors, 0);
    strcpy(src, "a");
    for (int i = 0; i < 1001; i++) strcat(src, "-a");
    lex(src);
    free(src);
    cr_assert_eq(count_diags(), 1);
    cr_assert(strstr(C->diags->msg, "statement too complex"), "%s", C->diags->msg);
}
