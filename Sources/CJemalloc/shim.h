#ifndef TESSERA_CJEMALLOC_H
#define TESSERA_CJEMALLOC_H
// Debian's libjemalloc-dev builds jemalloc unprefixed: linking it replaces
// malloc/free for the whole process, the Swift runtime included.
#include <jemalloc/jemalloc.h>
#endif
