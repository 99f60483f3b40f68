/* RedisModuleDict: a dictionary ordered by key bytes (a sorted array with
 * binary search; Redis uses a radix tree), with seekable iterators. */
#include "internal.h"
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *key; size_t len; void *val; } DictEntry;
typedef struct RedisModuleDict { DictEntry *e; size_t n, cap; } RedisModuleDict;
typedef struct RedisModuleDictIter {
    RedisModuleDict *d;
    long pos;      /* the element the next Next/Prev returns */
    long cur;      /* the element returned last (-1: none) */
    char *lastkey; size_t lastlen;
    RedisModuleCtx *ctx;
} RedisModuleDictIter;

static int keycmp(const char *a, size_t al, const char *b, size_t bl) {
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return al < bl ? -1 : (al > bl ? 1 : 0);
}

/* First index whose key is >= key; *found set if equal. */
static size_t lower_bound(RedisModuleDict *d, const char *key, size_t len, int *found) {
    size_t lo = 0, hi = d->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (keycmp(d->e[mid].key, d->e[mid].len, key, len) < 0) lo = mid + 1; else hi = mid;
    }
    if (found) *found = lo < d->n && keycmp(d->e[lo].key, d->e[lo].len, key, len) == 0;
    return lo;
}

RedisModuleDict *RM_CreateDict(RedisModuleCtx *ctx) { (void)ctx; return calloc(1, sizeof(RedisModuleDict)); }

void RM_FreeDict(RedisModuleCtx *ctx, RedisModuleDict *d) {
    (void)ctx;
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free(d->e[i].key);
    free(d->e);
    free(d);
}

uint64_t RM_DictSize(RedisModuleDict *d) { return d->n; }
size_t RM_MallocSizeDict(RedisModuleDict *d) {
    size_t s = sizeof(*d) + (d->e ? malloc_usable_size(d->e) : 0);
    for (size_t i = 0; i < d->n; i++) s += malloc_usable_size(d->e[i].key);
    return s;
}

static int dict_set(RedisModuleDict *d, void *key, size_t len, void *val, int replace) {
    int found;
    size_t i = lower_bound(d, key, len, &found);
    if (found) {
        if (!replace) return TSM_ERR;
        d->e[i].val = val;
        return TSM_OK;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->e = realloc(d->e, d->cap * sizeof(DictEntry));
    }
    memmove(&d->e[i + 1], &d->e[i], (d->n - i) * sizeof(DictEntry));
    d->e[i].key = malloc(len ? len : 1);
    if (len) memcpy(d->e[i].key, key, len);
    d->e[i].len = len;
    d->e[i].val = val;
    d->n++;
    return TSM_OK;
}

int RM_DictSetC(RedisModuleDict *d, void *key, size_t len, void *ptr) { return dict_set(d, key, len, ptr, 0); }
int RM_DictReplaceC(RedisModuleDict *d, void *key, size_t len, void *ptr) { return dict_set(d, key, len, ptr, 1); }
int RM_DictSet(RedisModuleDict *d, RedisModuleString *key, void *ptr) { return dict_set(d, key->ptr, key->len, ptr, 0); }
int RM_DictReplace(RedisModuleDict *d, RedisModuleString *key, void *ptr) { return dict_set(d, key->ptr, key->len, ptr, 1); }

void *RM_DictGetC(RedisModuleDict *d, void *key, size_t len, int *nokey) {
    int found;
    size_t i = lower_bound(d, key, len, &found);
    if (nokey) *nokey = !found;
    return found ? d->e[i].val : NULL;
}
void *RM_DictGet(RedisModuleDict *d, RedisModuleString *key, int *nokey) { return RM_DictGetC(d, key->ptr, key->len, nokey); }

int RM_DictDelC(RedisModuleDict *d, void *key, size_t len, void *oldval) {
    int found;
    size_t i = lower_bound(d, key, len, &found);
    if (!found) return TSM_ERR;
    if (oldval) *(void **)oldval = d->e[i].val;
    free(d->e[i].key);
    memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(DictEntry));
    d->n--;
    return TSM_OK;
}
int RM_DictDel(RedisModuleDict *d, RedisModuleString *key, void *oldval) { return RM_DictDelC(d, key->ptr, key->len, oldval); }

static long seek(RedisModuleDict *d, const char *op, const char *key, size_t len) {
    int found;
    if (strcmp(op, "^") == 0) return d->n ? 0 : -1;
    if (strcmp(op, "$") == 0) return (long)d->n - 1;
    size_t i = lower_bound(d, key, len, &found);
    if (strcmp(op, ">=") == 0) return i < d->n ? (long)i : -1;
    if (strcmp(op, ">") == 0) { if (found) i++; return i < d->n ? (long)i : -1; }
    if (strcmp(op, "<=") == 0) return found ? (long)i : (long)i - 1;
    if (strcmp(op, "<") == 0) return (long)i - 1;
    if (strcmp(op, "==") == 0) return found ? (long)i : -1;
    return -2;
}

int RM_DictIteratorReseekC(RedisModuleDictIter *di, const char *op, void *key, size_t len) {
    long p = seek(di->d, op, key, len);
    if (p == -2) return TSM_ERR;
    di->pos = p < 0 ? -1 : p;
    if (p == -1 && (strcmp(op, "<") == 0 || strcmp(op, "<=") == 0 || strcmp(op, "$") == 0)) di->pos = -1;
    di->cur = -1;
    return TSM_OK;
}
int RM_DictIteratorReseek(RedisModuleDictIter *di, const char *op, RedisModuleString *key) {
    return RM_DictIteratorReseekC(di, op, key->ptr, key->len);
}

RedisModuleDictIter *RM_DictIteratorStartC(RedisModuleDict *d, const char *op, void *key, size_t len) {
    RedisModuleDictIter *di = calloc(1, sizeof(*di));
    di->d = d;
    RM_DictIteratorReseekC(di, op, key, len);
    return di;
}
RedisModuleDictIter *RM_DictIteratorStart(RedisModuleDict *d, const char *op, RedisModuleString *key) {
    return RM_DictIteratorStartC(d, op, key ? key->ptr : NULL, key ? key->len : 0);
}
void RM_DictIteratorStop(RedisModuleDictIter *di) { free(di); }

static void *step(RedisModuleDictIter *di, size_t *keylen, void **dataptr, int dir) {
    if (di->pos < 0 || di->pos >= (long)di->d->n) return NULL;
    DictEntry *e = &di->d->e[di->pos];
    di->cur = di->pos;
    di->pos += dir;
    if (keylen) *keylen = e->len;
    if (dataptr) *dataptr = e->val;
    return e->key;
}
void *RM_DictNextC(RedisModuleDictIter *di, size_t *keylen, void **dataptr) { return step(di, keylen, dataptr, 1); }
void *RM_DictPrevC(RedisModuleDictIter *di, size_t *keylen, void **dataptr) { return step(di, keylen, dataptr, -1); }

RedisModuleString *RM_DictNext(RedisModuleCtx *ctx, RedisModuleDictIter *di, void **dataptr) {
    size_t len;
    void *k = step(di, &len, dataptr, 1);
    return k ? tsm_string_new(ctx, k, len) : NULL;
}
RedisModuleString *RM_DictPrev(RedisModuleCtx *ctx, RedisModuleDictIter *di, void **dataptr) {
    size_t len;
    void *k = step(di, &len, dataptr, -1);
    return k ? tsm_string_new(ctx, k, len) : NULL;
}

int RM_DictCompareC(RedisModuleDictIter *di, const char *op, void *key, size_t len) {
    if (di->cur < 0 || di->cur >= (long)di->d->n) return TSM_ERR;
    DictEntry *e = &di->d->e[di->cur];
    int c = keycmp(e->key, e->len, key, len);
    if (strcmp(op, ">") == 0) return c > 0;
    if (strcmp(op, ">=") == 0) return c >= 0;
    if (strcmp(op, "<") == 0) return c < 0;
    if (strcmp(op, "<=") == 0) return c <= 0;
    if (strcmp(op, "==") == 0) return c == 0;
    if (strcmp(op, "^") == 0 || strcmp(op, "$") == 0) return 1;
    return TSM_ERR;
}
int RM_DictCompare(RedisModuleDictIter *di, const char *op, RedisModuleString *key) {
    return RM_DictCompareC(di, op, key->ptr, key->len);
}
