/* RedisModuleString: a reference-counted byte string (NUL-terminated for
 * convenience), and the API functions over it. */
#define _GNU_SOURCE
#include "internal.h"
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

RedisModuleString *tsm_string_new(RedisModuleCtx *ctx, const char *ptr, size_t len) {
    RedisModuleString *s = malloc(sizeof(*s));
    s->refcount = 1;
    s->flags = 0;
    s->len = len;
    s->ptr = malloc(len + 1);
    if (len) memcpy(s->ptr, ptr, len);
    s->ptr[len] = 0;
    tsm_automem_add(ctx, TSM_AM_STRING, s);
    return s;
}

void tsm_string_release(RedisModuleString *s) {
    if (!s) return;
    if (--s->refcount > 0) return;
    free(s->ptr);
    free(s);
}

RedisModuleString *RM_CreateString(RedisModuleCtx *ctx, const char *ptr, size_t len) { return tsm_string_new(ctx, ptr, len); }

RedisModuleString *RM_CreateStringFromLongLong(RedisModuleCtx *ctx, long long v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", v);
    return tsm_string_new(ctx, buf, n);
}
RedisModuleString *RM_CreateStringFromULongLong(RedisModuleCtx *ctx, unsigned long long v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu", v);
    return tsm_string_new(ctx, buf, n);
}
RedisModuleString *RM_CreateStringFromDouble(RedisModuleCtx *ctx, double d) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.17g", d);
    return tsm_string_new(ctx, buf, n);
}
RedisModuleString *RM_CreateStringFromLongDouble(RedisModuleCtx *ctx, long double ld, int humanfriendly) {
    char buf[128];
    int n;
    if (isinf(ld)) n = snprintf(buf, sizeof buf, "%s", ld > 0 ? "inf" : "-inf");
    else if (humanfriendly) {
        /* Fixed point, trailing zeros (and a trailing dot) removed, as Redis. */
        n = snprintf(buf, sizeof buf, "%.17Lf", ld);
        if (strchr(buf, '.')) {
            char *p = buf + n - 1;
            while (*p == '0') { p--; n--; }
            if (*p == '.') n--;
            buf[n] = 0;
        }
        if (strcmp(buf, "-0") == 0) { buf[0] = '0'; buf[1] = 0; n = 1; }
    } else n = snprintf(buf, sizeof buf, "%.17Lg", ld);
    return tsm_string_new(ctx, buf, n);
}
RedisModuleString *RM_CreateStringFromString(RedisModuleCtx *ctx, const RedisModuleString *s) {
    return tsm_string_new(ctx, s->ptr, s->len);
}
RedisModuleString *RM_CreateStringFromCallReply(RedisModuleCallReply *r) {
    if (!r) return NULL;
    char buf[64];
    switch (r->type) {
    case 0: case 1: case 9: case 10: return tsm_string_new(r->ctx, r->str, r->len);
    case 2: { int n = snprintf(buf, sizeof buf, "%lld", r->integer); return tsm_string_new(r->ctx, buf, n); }
    default: return NULL;
    }
}

void RM_FreeString(RedisModuleCtx *ctx, RedisModuleString *s) {
    if (!s) return;
    tsm_automem_remove(ctx, s);
    tsm_string_release(s);
}

void RM_RetainString(RedisModuleCtx *ctx, RedisModuleString *s) {
    /* A string under AutoMemory becomes the caller's: it leaves the list
     * instead of being counted twice. */
    if (ctx && tsm_automem_contains(ctx, s)) tsm_automem_remove(ctx, s);
    else s->refcount++;
}

RedisModuleString *RM_HoldString(RedisModuleCtx *ctx, RedisModuleString *s) {
    if (!s) return NULL;
    if (ctx && tsm_automem_contains(ctx, s)) {
        /* The context still frees its reference: the holder gets its own. */
        s->refcount++;
        return s;
    }
    s->refcount++;
    return s;
}

const char *RM_StringPtrLen(const RedisModuleString *s, size_t *len) {
    if (!s) { if (len) *len = 6; return "(NULL)"; }
    if (len) *len = s->len;
    return s->ptr;
}

/* Redis's string2ll rules: no spaces, no '+', no leading zeros. */
static int parse_ll(const char *p, size_t n, long long *out) {
    if (n == 0 || n > 20) return 0;
    if (n == 1 && p[0] == '0') { *out = 0; return 1; }
    size_t i = 0;
    int neg = 0;
    if (p[0] == '-') { neg = 1; i = 1; if (n == 1) return 0; }
    if (p[i] < '1' || p[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        unsigned long long d = p[i] - '0';
        if (v > (18446744073709551615ULL - d) / 10) return 0;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > 9223372036854775808ULL) return 0;
        *out = v == 9223372036854775808ULL ? (-9223372036854775807LL - 1) : -(long long)v;
    } else {
        if (v > 9223372036854775807ULL) return 0;
        *out = (long long)v;
    }
    return 1;
}

int RM_StringToLongLong(const RedisModuleString *s, long long *ll) {
    return s && parse_ll(s->ptr, s->len, ll) ? TSM_OK : TSM_ERR;
}

int RM_StringToULongLong(const RedisModuleString *s, unsigned long long *ull) {
    if (!s || s->len == 0 || s->len > 20) return TSM_ERR;
    if (s->len > 1 && s->ptr[0] == '0') return TSM_ERR;
    unsigned long long v = 0;
    for (size_t i = 0; i < s->len; i++) {
        char c = s->ptr[i];
        if (c < '0' || c > '9') return TSM_ERR;
        unsigned long long d = c - '0';
        if (v > (18446744073709551615ULL - d) / 10) return TSM_ERR;
        v = v * 10 + d;
    }
    *ull = v;
    return TSM_OK;
}

int RM_StringToDouble(const RedisModuleString *s, double *d) {
    if (!s || s->len == 0 || s->len > 5000) return TSM_ERR;
    if (s->ptr[0] == ' ' || s->ptr[0] == '\t' || s->ptr[s->len - 1] == ' ') return TSM_ERR;
    char *end;
    errno = 0;
    double v = strtod(s->ptr, &end);
    if ((size_t)(end - s->ptr) != s->len || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) || isnan(v))
        return TSM_ERR;
    *d = v;
    return TSM_OK;
}

int RM_StringToLongDouble(const RedisModuleString *s, long double *d) {
    if (!s || s->len == 0 || s->len > 5000) return TSM_ERR;
    if (s->ptr[0] == ' ' || s->ptr[0] == '\t') return TSM_ERR;
    char *end;
    errno = 0;
    long double v = strtold(s->ptr, &end);
    if ((size_t)(end - s->ptr) != s->len || errno == ERANGE || isnan(v)) return TSM_ERR;
    *d = v;
    return TSM_OK;
}

int RM_StringCompare(RedisModuleString *a, RedisModuleString *b) {
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->ptr, b->ptr, n);
    if (c) return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

int RM_StringAppendBuffer(RedisModuleCtx *ctx, RedisModuleString *s, const char *buf, size_t len) {
    (void)ctx;
    if (s->refcount > 1) return TSM_ERR;
    s->ptr = realloc(s->ptr, s->len + len + 1);
    memcpy(s->ptr + s->len, buf, len);
    s->len += len;
    s->ptr[s->len] = 0;
    return TSM_OK;
}

void RM_TrimStringAllocation(RedisModuleString *s) { (void)s; }

int tsm_format_long_double_hex(char *buf, size_t len, long double v) { return snprintf(buf, len, "%La", v); }
