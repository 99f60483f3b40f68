/* Replies of RedisModule_Call: the command's RESP output parsed into a tree,
 * and the CallReply* accessors. */
#define _GNU_SOURCE
#include "internal.h"
#include <stdlib.h>
#include <string.h>

enum { R_STRING = 0, R_ERROR = 1, R_INTEGER = 2, R_ARRAY = 3, R_NULL = 4, R_MAP = 5, R_SET = 6,
       R_BOOL = 7, R_DOUBLE = 8, R_BIGNUM = 9, R_VERBATIM = 10, R_ATTRIBUTE = 11 };

static const char *line_end(const char *p, const char *end) {
    while (p + 1 < end) { if (p[0] == '\r' && p[1] == '\n') return p; p++; }
    return NULL;
}

static long long parse_int(const char *p, const char *e) {
    long long v = 0; int neg = 0;
    if (p < e && *p == '-') { neg = 1; p++; }
    while (p < e) { v = v * 10 + (*p - '0'); p++; }
    return neg ? -v : v;
}

static const char *parse(RedisModuleCallReply *r, const char *p, const char *end, RedisModuleCtx *ctx);

static const char *parse_aggregate(RedisModuleCallReply *r, const char *p, const char *end, RedisModuleCtx *ctx, size_t n) {
    r->elements = n ? calloc(n, sizeof(RedisModuleCallReply)) : NULL;
    for (size_t i = 0; i < n; i++) {
        p = parse(&r->elements[i], p, end, ctx);
        if (!p) return NULL;
    }
    return p;
}

static const char *parse(RedisModuleCallReply *r, const char *p, const char *end, RedisModuleCtx *ctx) {
    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
    if (p >= end) return NULL;
    /* Attributes come before the reply they annotate: skipped. */
    while (*p == '|') {
        const char *le = line_end(p, end);
        if (!le) return NULL;
        size_t n = parse_int(p + 1, le);
        RedisModuleCallReply tmp;
        const char *q = parse_aggregate(&tmp, le + 2, end, ctx, 2 * n);
        for (size_t i = 0; i < 2 * n && tmp.elements; i++) tsm_callreply_free(&tmp.elements[i]);
        free(tmp.elements);
        if (!q) return NULL;
        p = q;
    }
    const char *start = p;
    const char *le = line_end(p, end);
    if (!le) return NULL;
    char t = *p;
    const char *body = p + 1;
    const char *next = le + 2;
    switch (t) {
    case '+': r->type = R_STRING; r->str = body; r->len = le - body; break;
    case '-': r->type = R_ERROR; r->str = body; r->len = le - body; break;
    case ':': r->type = R_INTEGER; r->integer = parse_int(body, le); break;
    case '_': r->type = R_NULL; break;
    case '#': r->type = R_BOOL; r->integer = *body == 't'; break;
    case ',': {
        r->type = R_DOUBLE;
        char buf[128]; size_t n = le - body < 127 ? (size_t)(le - body) : 127;
        memcpy(buf, body, n); buf[n] = 0;
        r->dval = strtod(buf, NULL);
        break;
    }
    case '(': r->type = R_BIGNUM; r->str = body; r->len = le - body; break;
    case '$': case '=': {
        long long n = parse_int(body, le);
        if (n < 0) { r->type = R_NULL; break; }
        if (next + n + 2 > end) return NULL;
        if (t == '=') {
            r->type = R_VERBATIM;
            if (n >= 4) { memcpy(r->format, next, 3); r->format[3] = 0; r->str = next + 4; r->len = n - 4; }
            else { r->str = next; r->len = n; }
        } else { r->type = R_STRING; r->str = next; r->len = n; }
        next = next + n + 2;
        break;
    }
    case '*': case '~': case '%': case '>': {
        long long n = parse_int(body, le);
        if (n < 0) { r->type = R_NULL; break; }
        r->type = t == '%' ? R_MAP : (t == '~' ? R_SET : R_ARRAY);
        r->len = n;
        next = parse_aggregate(r, next, end, ctx, t == '%' ? 2 * n : n);
        if (!next) return NULL;
        break;
    }
    default: return NULL;
    }
    r->proto = start;
    r->protolen = next - start;
    return next;
}

RedisModuleCallReply *tsm_callreply_parse(RedisModuleCtx *ctx, const char *proto, size_t len) {
    RedisModuleCallReply *r = malloc(sizeof(*r));
    char *buf = malloc(len + 1);
    memcpy(buf, proto, len);
    buf[len] = 0;
    if (!parse(r, buf, buf + len, ctx)) {
        free(buf);
        free(r);
        return NULL;
    }
    r->root = 1;
    r->buffer = buf;
    return r;
}

static void free_children(RedisModuleCallReply *r) {
    size_t n = r->type == R_MAP ? 2 * r->len : r->len;
    if (r->elements) {
        for (size_t i = 0; i < n; i++) free_children(&r->elements[i]);
        free(r->elements);
        r->elements = NULL;
    }
}

void tsm_callreply_free(RedisModuleCallReply *r) {
    if (!r) return;
    if (r->type == R_ARRAY || r->type == R_MAP || r->type == R_SET) free_children(r);
    if (r->root) { free(r->buffer); free(r); }
}

void RM_FreeCallReply(RedisModuleCallReply *r) {
    if (!r || !r->root) return;   /* elements belong to their root */
    tsm_automem_remove(r->ctx, r);
    tsm_callreply_free(r);
}

int RM_CallReplyType(RedisModuleCallReply *r) { return r ? r->type : -1; }

size_t RM_CallReplyLength(RedisModuleCallReply *r) {
    if (!r) return 0;
    switch (r->type) {
    case R_STRING: case R_ERROR: case R_ARRAY: case R_MAP: case R_SET: case R_VERBATIM: case R_BIGNUM: return r->len;
    default: return 0;
    }
}

long long RM_CallReplyInteger(RedisModuleCallReply *r) { return r && r->type == R_INTEGER ? r->integer : (long long)0; }
double RM_CallReplyDouble(RedisModuleCallReply *r) { return r && r->type == R_DOUBLE ? r->dval : 0.0; }
int RM_CallReplyBool(RedisModuleCallReply *r) { return r && r->type == R_BOOL ? (int)r->integer : 0; }

const char *RM_CallReplyBigNumber(RedisModuleCallReply *r, size_t *len) {
    if (!r || r->type != R_BIGNUM) return NULL;
    *len = r->len;
    return r->str;
}

const char *RM_CallReplyVerbatim(RedisModuleCallReply *r, size_t *len, const char **format) {
    if (!r || r->type != R_VERBATIM) return NULL;
    *len = r->len;
    if (format) *format = r->format;
    return r->str;
}

const char *RM_CallReplyStringPtr(RedisModuleCallReply *r, size_t *len) {
    if (!r || (r->type != R_STRING && r->type != R_ERROR)) return NULL;
    if (len) *len = r->len;
    return r->str;
}

RedisModuleCallReply *RM_CallReplyArrayElement(RedisModuleCallReply *r, size_t idx) {
    if (!r || r->type != R_ARRAY || idx >= r->len) return NULL;
    return &r->elements[idx];
}

RedisModuleCallReply *RM_CallReplySetElement(RedisModuleCallReply *r, size_t idx) {
    if (!r || r->type != R_SET || idx >= r->len) return NULL;
    return &r->elements[idx];
}

int RM_CallReplyMapElement(RedisModuleCallReply *r, size_t idx, RedisModuleCallReply **key, RedisModuleCallReply **val) {
    if (!r || r->type != R_MAP || idx >= r->len) return TSM_ERR;
    if (key) *key = &r->elements[2 * idx];
    if (val) *val = &r->elements[2 * idx + 1];
    return TSM_OK;
}

/* Attributes are skipped when parsing: no reply has one. */
RedisModuleCallReply *RM_CallReplyAttribute(RedisModuleCallReply *r) { (void)r; return NULL; }
int RM_CallReplyAttributeElement(RedisModuleCallReply *r, size_t idx, RedisModuleCallReply **k, RedisModuleCallReply **v) {
    (void)r; (void)idx; (void)k; (void)v;
    return TSM_ERR;
}

const char *RM_CallReplyProto(RedisModuleCallReply *r, size_t *len) {
    if (!r) return NULL;
    *len = r->protolen;
    return r->proto;
}
