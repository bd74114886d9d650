/*
 * export.h: which of libtether's functions a program can link to.
 *
 * libtether is compiled with -fvisibility=hidden: nothing it defines is
 * visible outside the shared library unless declared between
 * TETHER_API_BEGIN and TETHER_API_END, which every public header in
 * include/tether/ puts around its declarations (just inside its
 * extern "C" block).  So a function is exported exactly when it is
 * declared in a public header; a new public function needs no mark of its
 * own, and an internal one (declared anywhere else) stays hidden whatever
 * its name.  tests/integration/pkg_symbols.sh checks the result with nm:
 * every exported symbol starts with tether_, and every tether_ function
 * of the public headers is exported.
 *
 * For compilers without GCC's visibility pragma (neither GCC nor clang)
 * the two marks are empty; the library is built with GCC or clang only.
 */
#ifndef TETHER_EXPORT_H
#define TETHER_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define TETHER_API_BEGIN _Pragma("GCC visibility push(default)")
#define TETHER_API_END _Pragma("GCC visibility pop")
#else
#define TETHER_API_BEGIN
#define TETHER_API_END
#endif

#endif
