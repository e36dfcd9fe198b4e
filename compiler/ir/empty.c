/* empty.c: keeps a layer library non-empty before its sources exist. */
typedef int nasc_empty_translation_unit;
