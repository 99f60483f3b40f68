/* The C half of Tessera's plugin ABI: the GetApi table, contexts and
 * AutoMemory, memory, time, and the variadic API functions, which Swift
 * cannot define. Functions named RM_* are ours; the table maps the
 * RedisModule_* names plugins ask for onto them and onto the Swift ones
 * (RMX_*). */
#define _GNU_SOURCE
#include "internal.h"
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Unknown names leave *targetPtrPtr untouched, as Redis does. */
int RM_GetApi(const char *funcname, void **targetPtrPtr) {
    void *fn = tsm_api_lookup(funcname);
    if (!fn) return TSM_ERR;
    *targetPtrPtr = fn;
    return TSM_OK;
}

/* ---- contexts and AutoMemory ---- */

typedef struct PoolBlock { struct PoolBlock *next; size_t size, used; char data[]; } PoolBlock;

void tsm_ctx_init(RedisModuleCtx *ctx, void *module, void *client) {
    memset(ctx, 0, sizeof(*ctx));
    ctx->getapifuncptr = (void *)RM_GetApi;
    ctx->module = module;
    ctx->client = client;
}

void tsm_automem_add(RedisModuleCtx *ctx, int kind, void *ptr) {
    if (!ctx || !(ctx->flags & TSM_CTX_AUTO_MEMORY)) return;
    if (ctx->am_count == ctx->am_cap) {
        ctx->am_cap = ctx->am_cap ? ctx->am_cap * 2 : 16;
        ctx->am = realloc(ctx->am, sizeof(TSMAutoMem) * ctx->am_cap);
    }
    ctx->am[ctx->am_count].kind = kind;
    ctx->am[ctx->am_count].ptr = ptr;
    ctx->am_count++;
}

void tsm_automem_remove(RedisModuleCtx *ctx, void *ptr) {
    if (!ctx || !(ctx->flags & TSM_CTX_AUTO_MEMORY)) return;
    for (int i = ctx->am_count - 1; i >= 0; i--) {
        if (ctx->am[i].ptr == ptr) { ctx->am[i].kind = 0; ctx->am[i].ptr = NULL; return; }
    }
}

int tsm_automem_contains(RedisModuleCtx *ctx, void *ptr) {
    if (!ctx || !(ctx->flags & TSM_CTX_AUTO_MEMORY)) return 0;
    for (int i = ctx->am_count - 1; i >= 0; i--) if (ctx->am[i].ptr == ptr) return 1;
    return 0;
}

void tsm_ctx_finish(RedisModuleCtx *ctx) {
    /* Keys first: closing one may still read strings. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ctx->am_count; i++) {
            TSMAutoMem *m = &ctx->am[i];
            if (!m->ptr) continue;
            if (pass == 0 && m->kind == TSM_AM_KEY) { RMX_CloseKey(m->ptr); m->ptr = NULL; }
            if (pass == 1) {
                if (m->kind == TSM_AM_STRING) tsm_string_release(m->ptr);
                else if (m->kind == TSM_AM_REPLY) tsm_callreply_free(m->ptr);
                m->ptr = NULL;
            }
        }
    }
    free(ctx->am);
    ctx->am = NULL;
    ctx->am_count = ctx->am_cap = 0;
    PoolBlock *b = ctx->pool;
    while (b) { PoolBlock *n = b->next; free(b); b = n; }
    ctx->pool = NULL;
}

void RM_AutoMemory(RedisModuleCtx *ctx) { ctx->flags |= TSM_CTX_AUTO_MEMORY; }

/* ---- memory (the process allocator is jemalloc: counted in used_memory) ---- */

void *RM_Alloc(size_t n) {
    void *p = malloc(n);
    if (!p) { fprintf(stderr, "plugin: out of memory allocating %zu bytes\n", n); abort(); }
    return p;
}
void *RM_TryAlloc(size_t n) { return malloc(n); }
void *RM_Calloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) { fprintf(stderr, "plugin: out of memory\n"); abort(); }
    return p;
}
void *RM_Realloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q && n) { fprintf(stderr, "plugin: out of memory\n"); abort(); }
    return q;
}
void RM_Free(void *p) { free(p); }
char *RM_Strdup(const char *s) { char *d = strdup(s); if (!d) abort(); return d; }
size_t RM_MallocSize(void *p) { return p ? malloc_usable_size(p) : 0; }
size_t RM_MallocUsableSize(void *p) { return p ? malloc_usable_size(p) : 0; }
size_t RM_MallocSizeString(RedisModuleString *s) { return sizeof(*s) + malloc_usable_size(s->ptr); }

void *RM_PoolAlloc(RedisModuleCtx *ctx, size_t bytes) {
    if (bytes == 0) return NULL;
    size_t align = bytes >= sizeof(void *) ? sizeof(void *) : 1;
    PoolBlock *b = ctx->pool;
    if (b) b->used = (b->used + align - 1) & ~(align - 1);
    if (!b || b->size - b->used < bytes) {
        size_t size = bytes > 8192 ? bytes : 8192;
        PoolBlock *nb = RM_Alloc(sizeof(PoolBlock) + size);
        nb->size = size;
        nb->used = 0;
        nb->next = b;
        ctx->pool = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += bytes;
    return p;
}

/* ---- time, randomness, misc ---- */

long long RM_Milliseconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
uint64_t RM_MonotonicMicroseconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
void RM_GetRandomBytes(unsigned char *dst, size_t len) {
    while (len > 0) {
        ssize_t n = getrandom(dst, len, 0);
        if (n <= 0) { if (errno == EINTR) continue; for (size_t i = 0; i < len; i++) dst[i] = rand(); return; }
        dst += n; len -= n;
    }
}
void RM_GetRandomHexChars(char *dst, size_t len) {
    static const char hex[] = "0123456789abcdef";
    RM_GetRandomBytes((unsigned char *)dst, len);
    for (size_t i = 0; i < len; i++) dst[i] = hex[((unsigned char)dst[i]) & 15];
}
int RM_GetTypeMethodVersion(void) { return 4; }
int RM_GetServerVersion(void) { return 0x07000F; }   /* we speak Redis 7.0.15 */
int RM_IsKeysPositionRequest(RedisModuleCtx *ctx) { (void)ctx; return 0; }
void RM_KeyAtPos(RedisModuleCtx *ctx, int pos) { (void)ctx; (void)pos; }
void RM_KeyAtPosWithFlags(RedisModuleCtx *ctx, int pos, int flags) { (void)ctx; (void)pos; (void)flags; }
void RM_SetModuleOptions(RedisModuleCtx *ctx, int options) { (void)ctx; (void)options; }
int RM_AvoidReplicaTraffic(void) { return 0; }
const char *RM_GetMyClusterID(void) { return NULL; }
size_t RM_GetClusterSize(void) { return 0; }
void RM_LatencyAddSample(const char *event, long long latency) { (void)event; (void)latency; }
void RM__Assert(const char *estr, const char *file, int line) {
    fprintf(stderr, "=== PLUGIN ASSERTION FAILED ===\n==> %s:%d '%s' is not true\n", file, line, estr);
    abort();
}
/* DEBUG DIGEST is not implemented: digests are accepted and ignored. */
void RM_DigestAddStringBuffer(void *md, const char *ele, size_t len) { (void)md; (void)ele; (void)len; }
void RM_DigestAddLongLong(void *md, long long ele) { (void)md; (void)ele; }
void RM_DigestEndSequence(void *md) { (void)md; }

/* ---- the lock plugin threads share with the event loop ---- */

static pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;
void tsm_gil_lock(void) { pthread_mutex_lock(&gil); }
void tsm_gil_unlock(void) { pthread_mutex_unlock(&gil); }
int tsm_gil_trylock(void) { return pthread_mutex_trylock(&gil) == 0; }
void RM_ThreadSafeContextLock(RedisModuleCtx *ctx) { (void)ctx; tsm_gil_lock(); }
int RM_ThreadSafeContextTryLock(RedisModuleCtx *ctx) { (void)ctx; return tsm_gil_trylock() ? TSM_OK : TSM_ERR; }
void RM_ThreadSafeContextUnlock(RedisModuleCtx *ctx) { (void)ctx; tsm_gil_unlock(); }

/* ---- variadic API functions ---- */

int tsm_call_format_flags(const char *fmt, int *nargs) {
    int flags = 0, n = 0;
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
        case 'c': case 's': case 'b': case 'l': case 'v': n++; break;
        case '!': flags |= TSM_CALL_REPLICATE; break;
        case 'A': flags |= TSM_CALL_NO_AOF; break;
        case 'R': flags |= TSM_CALL_NO_REPLICAS; break;
        case '3': flags |= TSM_CALL_RESP3; break;
        case '0': flags |= TSM_CALL_RESP_AUTO; break;
        case 'C': flags |= TSM_CALL_CHECK_ACL; break;
        case 'S': flags |= TSM_CALL_SCRIPT_MODE; break;
        case 'W': flags |= TSM_CALL_NO_WRITES; break;
        case 'M': flags |= TSM_CALL_DENY_OOM; break;
        case 'E': flags |= TSM_CALL_ERRORS_AS_REPLIES; break;
        default: flags |= TSM_CALL_BAD_FORMAT; break;
        }
    }
    if (nargs) *nargs = n;
    return flags;
}

RedisModuleString **tsm_argv_build(const char *fmt, va_list ap, int *argcp, int *flagsp) {
    int cap = 8, argc = 0;
    RedisModuleString **argv = malloc(sizeof(*argv) * cap);
    int flags = tsm_call_format_flags(fmt, NULL);
    if (flags & TSM_CALL_BAD_FORMAT) { free(argv); return NULL; }
#define PUSH(s) do { if (argc == cap) { cap *= 2; argv = realloc(argv, sizeof(*argv) * cap); } argv[argc++] = (s); } while (0)
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
        case 'c': { const char *s = va_arg(ap, const char *); PUSH(tsm_string_new(NULL, s, strlen(s))); break; }
        case 's': { RedisModuleString *s = va_arg(ap, RedisModuleString *); PUSH(tsm_string_new(NULL, s->ptr, s->len)); break; }
        case 'b': { const char *b = va_arg(ap, const char *); size_t n = va_arg(ap, size_t); PUSH(tsm_string_new(NULL, b, n)); break; }
        case 'l': { long long v = va_arg(ap, long long); char buf[32]; int n = snprintf(buf, sizeof buf, "%lld", v); PUSH(tsm_string_new(NULL, buf, n)); break; }
        case 'v': {
            RedisModuleString **v = va_arg(ap, RedisModuleString **);
            size_t n = va_arg(ap, size_t);
            for (size_t i = 0; i < n; i++) PUSH(tsm_string_new(NULL, v[i]->ptr, v[i]->len));
            break;
        }
        default: break;
        }
    }
#undef PUSH
    *argcp = argc;
    if (flagsp) *flagsp = flags;
    return argv;
}

void tsm_argv_free(RedisModuleString **argv, int argc) {
    for (int i = 0; i < argc; i++) tsm_string_release(argv[i]);
    free(argv);
}

RedisModuleCallReply *RM_Call(RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int argc = 0, flags = 0;
    RedisModuleString **argv = tsm_argv_build(fmt, ap, &argc, &flags);
    va_end(ap);
    if (!argv) { errno = EINVAL; return NULL; }
    RedisModuleCallReply *r = RMX_CallArgv(ctx, cmdname, argv, argc, flags);
    tsm_argv_free(argv, argc);
    if (r) tsm_automem_add(ctx, TSM_AM_REPLY, r);
    return r;
}

int RM_Replicate(RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int argc = 0;
    RedisModuleString **argv = tsm_argv_build(fmt, ap, &argc, NULL);
    va_end(ap);
    if (!argv) return TSM_ERR;
    int rc = RMX_ReplicateArgv(ctx, cmdname, argv, argc);
    tsm_argv_free(argv, argc);
    return rc;
}

void RM_EmitAOF(void *io, const char *cmdname, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int argc = 0;
    RedisModuleString **argv = tsm_argv_build(fmt, ap, &argc, NULL);
    va_end(ap);
    if (!argv) return;
    RMX_EmitAOFArgv(io, cmdname, argv, argc);
    tsm_argv_free(argv, argc);
}

static char *vformat(const char *fmt, va_list ap, int *lenp) {
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) n = 0;
    char *buf = malloc(n + 1);
    vsnprintf(buf, n + 1, fmt, ap);
    if (lenp) *lenp = n;
    return buf;
}

void RM_Log(RedisModuleCtx *ctx, const char *level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap, NULL);
    va_end(ap);
    RMX_LogMessage(ctx, level, msg);
    free(msg);
}

void RM_LogIOError(void *io, const char *level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap, NULL);
    va_end(ap);
    RMX_LogIOMessage(io, level, msg);
    free(msg);
}

RedisModuleString *RM_CreateStringPrintf(RedisModuleCtx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = 0;
    char *msg = vformat(fmt, ap, &n);
    va_end(ap);
    RedisModuleString *s = tsm_string_new(ctx, msg, n);
    free(msg);
    return s;
}

#define HASH_NX (1 << 0)
#define HASH_XX (1 << 1)
#define HASH_CFIELDS (1 << 2)
#define HASH_EXISTS (1 << 3)
#define HASH_COUNT_ALL (1 << 4)

int RM_HashSet(void *key, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int count = 0;
    for (;;) {
        const char *f; size_t flen;
        if (flags & HASH_CFIELDS) {
            f = va_arg(ap, const char *);
            if (!f) break;
            flen = strlen(f);
        } else {
            RedisModuleString *fs = va_arg(ap, RedisModuleString *);
            if (!fs) break;
            f = fs->ptr; flen = fs->len;
        }
        RedisModuleString *v = va_arg(ap, RedisModuleString *);
        int del = v == (RedisModuleString *)(long)1;
        int rc = RMX_HashSetOne(key, flags, f, flen, del ? NULL : v, del);
        if (rc < 0) { count = 0; break; }
        count += rc;
    }
    va_end(ap);
    return count;
}

int RM_HashGet(void *key, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    int rc = TSM_OK;
    for (;;) {
        const char *f; size_t flen;
        if (flags & HASH_CFIELDS) {
            f = va_arg(ap, const char *);
            if (!f) break;
            flen = strlen(f);
        } else {
            RedisModuleString *fs = va_arg(ap, RedisModuleString *);
            if (!fs) break;
            f = fs->ptr; flen = fs->len;
        }
        if (flags & HASH_EXISTS) {
            int *out = va_arg(ap, int *);
            int ex = 0;
            if (RMX_HashGetOne(key, flags, f, flen, NULL, &ex) < 0) { rc = TSM_ERR; break; }
            *out = ex;
        } else {
            RedisModuleString **out = va_arg(ap, RedisModuleString **);
            if (RMX_HashGetOne(key, flags, f, flen, out, NULL) < 0) { rc = TSM_ERR; break; }
        }
    }
    va_end(ap);
    return rc;
}

/* ---- calling plugin code through its function pointers ---- */

typedef int (*cmd_fn)(RedisModuleCtx *, RedisModuleString **, int);
int tsm_call_cmd(void *fn, RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { return ((cmd_fn)fn)(ctx, argv, argc); }
int tsm_call_onload(void *fn, RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { return ((cmd_fn)fn)(ctx, argv, argc); }
void tsm_call_timer(void *fn, RedisModuleCtx *ctx, void *data) { ((void (*)(RedisModuleCtx *, void *))fn)(ctx, data); }
int tsm_call_notify(void *fn, RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key) {
    return ((int (*)(RedisModuleCtx *, int, const char *, RedisModuleString *))fn)(ctx, type, event, key);
}
void *tsm_call_rdb_load(void *fn, void *io, int encver) { return ((void *(*)(void *, int))fn)(io, encver); }
void tsm_call_rdb_save(void *fn, void *io, void *value) { ((void (*)(void *, void *))fn)(io, value); }
void tsm_call_aof_rewrite(void *fn, void *io, RedisModuleString *key, void *value) {
    ((void (*)(void *, RedisModuleString *, void *))fn)(io, key, value);
}
size_t tsm_call_mem_usage(void *fn, const void *value) { return ((size_t (*)(const void *))fn)(value); }
void tsm_call_free(void *fn, void *value) { ((void (*)(void *))fn)(value); }
void *tsm_call_copy(void *fn, RedisModuleString *from, RedisModuleString *to, const void *value) {
    return ((void *(*)(RedisModuleString *, RedisModuleString *, const void *))fn)(from, to, value);
}
void tsm_call_unlink(void *fn, RedisModuleString *key, const void *value) {
    ((void (*)(RedisModuleString *, const void *))fn)(key, value);
}
void tsm_call_disconnect(void *fn, RedisModuleCtx *ctx, void *bc) { ((void (*)(RedisModuleCtx *, void *))fn)(ctx, bc); }
void tsm_call_free_privdata(void *fn, RedisModuleCtx *ctx, void *privdata) {
    ((void (*)(RedisModuleCtx *, void *))fn)(ctx, privdata);
}

/* ---- dynamic loading ---- */

void *tsm_dlopen(const char *path, char *err, size_t errlen) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h && err && errlen) { const char *e = dlerror(); snprintf(err, errlen, "%s", e ? e : "unknown error"); }
    return h;
}
void *tsm_dlsym(void *handle, const char *name) { return dlsym(handle, name); }
int tsm_dlclose(void *handle) { return dlclose(handle); }

/* ---- completions from plugin threads (UnblockClient), woken through an eventfd ---- */

#include <sys/eventfd.h>

typedef struct Completion { void *bc; void *privdata; struct Completion *next; } Completion;
static pthread_mutex_t completions_lock = PTHREAD_MUTEX_INITIALIZER;
static Completion *completions_head, *completions_tail;
static int wake_fd = -1;

int tsm_wakeup_create(void) {
    if (wake_fd < 0) wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return wake_fd;
}

void tsm_completion_push(void *bc, void *privdata) {
    Completion *c = malloc(sizeof(*c));
    c->bc = bc; c->privdata = privdata; c->next = NULL;
    pthread_mutex_lock(&completions_lock);
    if (completions_tail) completions_tail->next = c; else completions_head = c;
    completions_tail = c;
    pthread_mutex_unlock(&completions_lock);
    if (wake_fd >= 0) { uint64_t one = 1; ssize_t n = write(wake_fd, &one, sizeof one); (void)n; }
}

int tsm_completion_pop(void **bc, void **privdata) {
    pthread_mutex_lock(&completions_lock);
    Completion *c = completions_head;
    if (c) { completions_head = c->next; if (!completions_head) completions_tail = NULL; }
    pthread_mutex_unlock(&completions_lock);
    if (!c) return 0;
    *bc = c->bc; *privdata = c->privdata;
    free(c);
    return 1;
}

void tsm_wakeup_drain(void) {
    uint64_t v;
    if (wake_fd >= 0) { ssize_t n = read(wake_fd, &v, sizeof v); (void)n; }
}
