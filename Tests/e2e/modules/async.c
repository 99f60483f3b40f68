/* Compatibility module for Tessera's e2e tests: blocked clients completed by
 * threads, timeouts, thread-safe contexts with the lock, blocking on keys,
 * timers, and a custom data type saved with every Save* kind. Compiles
 * against Tessera's header or Redis 7.0's redismodule.h. */
#define _GNU_SOURCE
#ifdef USE_REDIS_HEADER
#include "redismodule.h"
#else
#include "tessera_module.h"
#endif
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static RedisModuleType *CompatType;
static int disconnects = 0;

/* ---- blocking with a thread ---- */

typedef struct { RedisModuleBlockedClient *bc; long long ms; int reply_from_thread; } Job;

static int BlockReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    long long *v = RedisModule_GetBlockedClientPrivateData(ctx);
    if (!v) return REDISMODULE_OK;   /* replied from the thread */
    return RedisModule_ReplyWithLongLong(ctx, *v);
}

static int BlockTimeout(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    return RedisModule_ReplyWithSimpleString(ctx, "timeout");
}

static void FreePriv(RedisModuleCtx *ctx, void *p) { REDISMODULE_NOT_USED(ctx); RedisModule_Free(p); }

static void Disconnected(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc) {
    REDISMODULE_NOT_USED(ctx); REDISMODULE_NOT_USED(bc);
    disconnects++;
}

static void *Worker(void *arg) {
    Job *job = arg;
    usleep((useconds_t)(job->ms * 1000));
    RedisModuleCtx *ctx = RedisModule_GetThreadSafeContext(job->bc);
    RedisModule_ThreadSafeContextLock(ctx);
    RedisModuleCallReply *r = RedisModule_Call(ctx, "INCR", "c", "a:worker-runs");
    long long runs = RedisModule_CallReplyInteger(r);
    RedisModule_FreeCallReply(r);
    RedisModule_ThreadSafeContextUnlock(ctx);
    if (job->reply_from_thread) {
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithSimpleString(ctx, "from-thread");
        RedisModule_ReplyWithLongLong(ctx, runs);
        RedisModule_FreeThreadSafeContext(ctx);
        RedisModule_UnblockClient(job->bc, NULL);
    } else {
        RedisModule_FreeThreadSafeContext(ctx);
        long long *v = RedisModule_Alloc(sizeof(long long));
        *v = runs * 1000 + job->ms;
        RedisModule_UnblockClient(job->bc, v);
    }
    RedisModule_Free(job);
    return NULL;
}

/* a.block ms [thread-reply]: a thread completes the command after ms. */
static int Block(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2 && argc != 3) return RedisModule_WrongArity(ctx);
    long long ms;
    if (RedisModule_StringToLongLong(argv[1], &ms) != REDISMODULE_OK) return RedisModule_ReplyWithError(ctx, "ERR bad ms");
    RedisModuleBlockedClient *bc = RedisModule_BlockClient(ctx, BlockReply, BlockTimeout, FreePriv, 0);
    RedisModule_SetDisconnectCallback(bc, Disconnected);
    Job *job = RedisModule_Alloc(sizeof(Job));
    job->bc = bc;
    job->ms = ms;
    job->reply_from_thread = argc == 3;
    pthread_t t;
    if (pthread_create(&t, NULL, Worker, job) != 0) {
        RedisModule_AbortBlock(bc);
        return RedisModule_ReplyWithError(ctx, "ERR no thread");
    }
    pthread_detach(t);
    return REDISMODULE_OK;
}

/* a.blocktimeout ms: never completed; the timeout callback replies. */
static RedisModuleBlockedClient *pending[64];
static int npending = 0;
static int BlockForever(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    long long ms;
    RedisModule_StringToLongLong(argv[1], &ms);
    RedisModuleBlockedClient *bc = RedisModule_BlockClient(ctx, BlockReply, BlockTimeout, FreePriv, ms);
    RedisModule_SetDisconnectCallback(bc, Disconnected);
    if (npending < 64) pending[npending++] = bc;
    return REDISMODULE_OK;
}

/* a.release: completes (frees) the handles a.blocktimeout left. */
static int Release(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    int n = npending;
    for (int i = 0; i < npending; i++) RedisModule_UnblockClient(pending[i], NULL);
    npending = 0;
    return RedisModule_ReplyWithLongLong(ctx, n);
}

static int Disconnects(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    return RedisModule_ReplyWithLongLong(ctx, disconnects);
}

/* ---- blocking on keys ---- */

static int KeysReply(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    RedisModuleString *keyname = RedisModule_GetBlockedClientReadyKey(ctx);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_LIST || RedisModule_ValueLength(key) == 0) {
        RedisModule_CloseKey(key);
        return REDISMODULE_ERR;
    }
    RedisModuleString *ele = RedisModule_ListPop(key, REDISMODULE_LIST_HEAD);
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithString(ctx, keyname);
    RedisModule_ReplyWithString(ctx, ele);
    RedisModule_FreeString(ctx, ele);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

/* a.bpop key timeout_ms: pops the list's head, waiting for it if empty. */
static int BPop(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    long long ms;
    RedisModule_StringToLongLong(argv[2], &ms);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_LIST && RedisModule_ValueLength(key) > 0) {
        RedisModuleString *ele = RedisModule_ListPop(key, REDISMODULE_LIST_HEAD);
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithString(ctx, argv[1]);
        RedisModule_ReplyWithString(ctx, ele);
        RedisModule_FreeString(ctx, ele);
        RedisModule_CloseKey(key);
        return REDISMODULE_OK;
    }
    RedisModule_CloseKey(key);
    RedisModule_BlockClientOnKeys(ctx, KeysReply, BlockTimeout, NULL, ms, argv + 1, 1, NULL);
    return REDISMODULE_OK;
}

/* ---- timers ---- */

static void TimerFired(RedisModuleCtx *ctx, void *data) {
    RedisModuleString *key = data;
    RedisModuleCallReply *r = RedisModule_Call(ctx, "SET", "sc", key, "fired");
    RedisModule_FreeCallReply(r);
    RedisModule_FreeString(ctx, key);
}

/* a.timer key ms: sets key to "fired" after ms; replies remaining time > 0. */
static int Timer(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    long long ms;
    RedisModule_StringToLongLong(argv[2], &ms);
    RedisModuleString *key = RedisModule_CreateStringFromString(NULL, argv[1]);
    RedisModuleTimerID id = RedisModule_CreateTimer(ctx, ms, TimerFired, key);
    uint64_t remaining = 0;
    void *data = NULL;
    RedisModule_GetTimerInfo(ctx, id, &remaining, &data);
    return RedisModule_ReplyWithLongLong(ctx, data == key && remaining > 0);
}

/* a.timerstop ms: a timer stopped before it fires. */
static int TimerStop(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    long long ms;
    RedisModule_StringToLongLong(argv[1], &ms);
    RedisModuleString *key = RedisModule_CreateString(NULL, "a:never", 7);
    RedisModuleTimerID id = RedisModule_CreateTimer(ctx, ms, TimerFired, key);
    void *data = NULL;
    int rc = RedisModule_StopTimer(ctx, id, &data);
    RedisModule_FreeString(NULL, data);
    return RedisModule_ReplyWithLongLong(ctx, rc == REDISMODULE_OK && RedisModule_StopTimer(ctx, id, NULL) == REDISMODULE_ERR);
}

/* ---- a custom data type with every Save/Load kind ---- */

typedef struct { uint64_t u; int64_t s; double d; float f; long double ld; RedisModuleString *str; char *buf; size_t buflen; } Compat;

static void compat_free(void *v) {
    Compat *c = v;
    if (c->str) RedisModule_FreeString(NULL, c->str);
    RedisModule_Free(c->buf);
    RedisModule_Free(c);
}

static void compat_save(RedisModuleIO *io, void *v) {
    Compat *c = v;
    RedisModule_SaveUnsigned(io, c->u);
    RedisModule_SaveSigned(io, c->s);
    RedisModule_SaveDouble(io, c->d);
    RedisModule_SaveFloat(io, c->f);
    RedisModule_SaveLongDouble(io, c->ld);
    RedisModule_SaveString(io, c->str);
    RedisModule_SaveStringBuffer(io, c->buf, c->buflen);
}

static void *compat_load(RedisModuleIO *io, int encver) {
    if (encver != 1) return NULL;
    Compat *c = RedisModule_Calloc(1, sizeof(*c));
    c->u = RedisModule_LoadUnsigned(io);
    c->s = RedisModule_LoadSigned(io);
    c->d = RedisModule_LoadDouble(io);
    c->f = RedisModule_LoadFloat(io);
    c->ld = RedisModule_LoadLongDouble(io);
    c->str = RedisModule_LoadString(io);
    c->buf = RedisModule_LoadStringBuffer(io, &c->buflen);
    return c;
}

static void compat_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *v) {
    Compat *c = v;
    RedisModule_EmitAOF(aof, "A.TSET", "sllsb", key, (long long)c->u, (long long)c->s, c->str, c->buf, c->buflen);
}

static size_t compat_mem(const void *v) { const Compat *c = v; return sizeof(*c) + c->buflen + 1000; }

/* a.tset key u s str buf [d]: stores a value (d, f and ld derive from u). */
static int TSet(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 6) return RedisModule_WrongArity(ctx);
    long long u, s;
    if (RedisModule_StringToLongLong(argv[2], &u) != REDISMODULE_OK || RedisModule_StringToLongLong(argv[3], &s) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, "ERR bad numbers");
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    int type = RedisModule_KeyType(key);
    if (type != REDISMODULE_KEYTYPE_EMPTY && RedisModule_ModuleTypeGetType(key) != CompatType) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    Compat *c = RedisModule_Calloc(1, sizeof(*c));
    c->u = (uint64_t)u;
    c->s = s;
    c->d = (double)u / 4;
    c->f = (float)u / 8;
    c->ld = (long double)u / 16;
    c->str = RedisModule_CreateStringFromString(NULL, argv[4]);
    size_t len;
    const char *p = RedisModule_StringPtrLen(argv[5], &len);
    c->buf = RedisModule_Alloc(len + 1);
    memcpy(c->buf, p, len);
    c->buflen = len;
    RedisModule_ModuleTypeSetValue(key, CompatType, c);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int TGet(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ);
    if (!key) return RedisModule_ReplyWithNull(ctx);
    if (RedisModule_ModuleTypeGetType(key) != CompatType) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    }
    Compat *c = RedisModule_ModuleTypeGetValue(key);
    RedisModule_ReplyWithArray(ctx, 7);
    RedisModule_ReplyWithLongLong(ctx, (long long)c->u);
    RedisModule_ReplyWithLongLong(ctx, c->s);
    RedisModule_ReplyWithDouble(ctx, c->d);
    RedisModule_ReplyWithDouble(ctx, c->f);
    RedisModule_ReplyWithLongDouble(ctx, c->ld);
    RedisModule_ReplyWithString(ctx, c->str);
    RedisModule_ReplyWithStringBuffer(ctx, c->buf, c->buflen);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    if (RedisModule_Init(ctx, "async", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR) return REDISMODULE_ERR;
    RedisModuleTypeMethods tm = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = compat_load, .rdb_save = compat_save, .aof_rewrite = compat_rewrite,
        .mem_usage = compat_mem, .free = compat_free,
    };
    CompatType = RedisModule_CreateDataType(ctx, "tcompat01", 1, &tm);
    if (!CompatType) return REDISMODULE_ERR;
    struct { const char *name; RedisModuleCmdFunc fn; const char *flags; int first; } cmds[] = {
        {"a.block", Block, "readonly", 0},
        {"a.blocktimeout", BlockForever, "readonly", 0},
        {"a.release", Release, "readonly", 0},
        {"a.disconnects", Disconnects, "readonly", 0},
        {"a.bpop", BPop, "write", 1},
        {"a.timer", Timer, "readonly", 0},
        {"a.timerstop", TimerStop, "readonly", 0},
        {"a.tset", TSet, "write deny-oom", 1},
        {"a.tget", TGet, "readonly", 1},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (RedisModule_CreateCommand(ctx, cmds[i].name, cmds[i].fn, cmds[i].flags, cmds[i].first, cmds[i].first, cmds[i].first ? 1 : 0) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
