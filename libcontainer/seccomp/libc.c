// What Debian's libseccomp.a needs of a C library and musl lacks. The
// archive is built against glibc with _FORTIFY_SOURCE, so its fprintf
// calls (seccomp_export_pfc) are glibc's checked variant; hull's Makefile
// links it with musl (see the Makefile for why). With glibc this file is
// empty and glibc's own is used.
#include <stdarg.h>
#include <stdio.h>

#ifndef __GLIBC__
// __fprintf_chk is fprintf with glibc's checks of the format (%n in
// writable memory) at flag > 0; the formats here are libseccomp's
// constants, so plain vfprintf does what it would.
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int n;
	(void)flag;
	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}
#endif
