/*
 * cleanup.h - scope-bound cleanup helpers in the systemd style.
 *
 * `_cleanup_free_ char *s = NULL;` frees s when it leaves scope. Every
 * destructor used with _cleanup_ accepts NULL. TAKE_PTR() hands ownership
 * out of a cleanup variable so it is not freed on return.
 */
#ifndef ENEMANE_UTIL_CLEANUP_H
#define ENEMANE_UTIL_CLEANUP_H

#include <stdlib.h>
#include <stdio.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Returns the pointer and sets the variable to NULL (ownership moves out). */
#define TAKE_PTR(p) ({ __typeof__(p) _tp_ = (p); (p) = NULL; _tp_; })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
