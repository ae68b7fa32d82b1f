// A second constructor of package prefault: one malloc arena for the
// whole process. No policy: prefault.go says why. Only glibc's malloc
// has arenas per thread; the Makefile links hull with musl, whose malloc
// has none, and this file is then empty but for the tests' helpers.

#include <stdio.h> // first: it defines __GLIBC__ under glibc
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

__attribute__((constructor)) static void hull_one_arena(void)
{
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 1);
#endif
}

// hull_malloc_free lets the tests malloc on a thread of their choosing
// (cgo is not allowed in test files).
void hull_malloc_free(void)
{
	void *p = malloc(64);
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
}

// hull_arenas counts malloc's arenas (malloc_info's <heap> entries), for
// the tests.
int hull_arenas(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -1;
#ifdef __GLIBC__
	malloc_info(0, f);
#endif
	fclose(f);
	int n = 0;
	for (char *p = buf; p && (p = strstr(p, "<heap nr=")); p++)
		n++;
	free(buf);
	return n;
}
