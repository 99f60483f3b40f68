/* Compatibility module for Tessera's e2e tests: commands, replies, strings,
 * AutoMemory, pool allocation, Call and its replies, replication, keys of
 * every data type, dictionaries, keyspace events, context information. It
 * compiles against Tessera's header or Redis 7.0's redismodule.h. */
#ifdef USE_REDIS_HEADER
#include "redismodule.h"
#else
#include "tessera_module.h"
#endif
#include <string.h>
#include <errno.h>

static int events_seen = 0;

/* t.echo arg... : replies its arguments (array of bulk strings). */
static int Echo(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModule_ReplyWithArray(ctx, argc - 1);
    for (int i = 1; i < argc; i++) RedisModule_ReplyWithString(ctx, argv[i]);
    return REDISMODULE_OK;
}

/* t.replies: one reply of each kind, with postponed lengths. */
static int Replies(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    if (argc != 1) return RedisModule_WrongArity(ctx);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    RedisModule_ReplyWithLongLong(ctx, 42);
    RedisModule_ReplyWithSimpleString(ctx, "simple");
    RedisModule_ReplyWithStringBuffer(ctx, "buf", 3);
    RedisModule_ReplyWithCString(ctx, "cstr");
    RedisModule_ReplyWithNull(ctx);
    RedisModule_ReplyWithDouble(ctx, 3.5);
    RedisModule_ReplyWithBool(ctx, 1);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    RedisModule_ReplyWithLongLong(ctx, 1);
    RedisModule_ReplyWithLongLong(ctx, 2);
    RedisModule_ReplySetArrayLength(ctx, 2);
    RedisModule_ReplyWithMap(ctx, 1);
    RedisModule_ReplyWithCString(ctx, "k");
    RedisModule_ReplyWithLongLong(ctx, 7);
    RedisModule_ReplyWithEmptyArray(ctx);
    RedisModule_ReplyWithVerbatimString(ctx, "verbatim", 8);
    RedisModule_ReplyWithEmptyString(ctx);
    RedisModule_ReplyWithLongDouble(ctx, 1.25L);
    RedisModule_ReplySetArrayLength(ctx, 13);
    return REDISMODULE_OK;
}

/* t.error */
static int Error(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    return RedisModule_ReplyWithError(ctx, "ERR something went wrong");
}

/* t.strings n: number conversions and string building. */
static int Strings(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    long long ll;
    double d;
    if (RedisModule_StringToLongLong(argv[1], &ll) == REDISMODULE_OK) {
        RedisModuleString *s = RedisModule_CreateStringFromLongLong(ctx, ll * 2);
        RedisModule_StringAppendBuffer(ctx, s, "!", 1);
        return RedisModule_ReplyWithString(ctx, s);
    }
    if (RedisModule_StringToDouble(argv[1], &d) == REDISMODULE_OK) {
        RedisModuleString *s = RedisModule_CreateStringPrintf(ctx, "double:%.2f", d);
        return RedisModule_ReplyWithString(ctx, s);
    }
    size_t len;
    const char *p = RedisModule_StringPtrLen(argv[1], &len);
    char *copy = RedisModule_PoolAlloc(ctx, len + 1);
    memcpy(copy, p, len);
    copy[len] = 0;
    RedisModuleString *s = RedisModule_CreateStringFromString(ctx, argv[1]);
    RedisModule_RetainString(ctx, s);
    int cmp = RedisModule_StringCompare(s, argv[1]);
    RedisModule_FreeString(ctx, s);
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithCString(ctx, copy);
    return RedisModule_ReplyWithLongLong(ctx, cmp);
}

/* t.call cmd args...: runs the command with Call and replies what it got,
 * converted to a description: "type:value" (arrays recursively). */
static void describe(RedisModuleCtx *ctx, RedisModuleCallReply *r) {
    size_t len;
    const char *s;
    switch (RedisModule_CallReplyType(r)) {
    case REDISMODULE_REPLY_STRING:
        s = RedisModule_CallReplyStringPtr(r, &len);
        RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "string:%.*s", (int)len, s));
        break;
    case REDISMODULE_REPLY_ERROR:
        s = RedisModule_CallReplyStringPtr(r, &len);
        RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "error:%.*s", (int)len, s));
        break;
    case REDISMODULE_REPLY_INTEGER:
        RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "integer:%lld", RedisModule_CallReplyInteger(r)));
        break;
    case REDISMODULE_REPLY_NULL:
        RedisModule_ReplyWithCString(ctx, "null");
        break;
    case REDISMODULE_REPLY_DOUBLE:
        RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "double:%g", RedisModule_CallReplyDouble(r)));
        break;
    case REDISMODULE_REPLY_BOOL:
        RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "bool:%d", RedisModule_CallReplyBool(r)));
        break;
    case REDISMODULE_REPLY_ARRAY:
    case REDISMODULE_REPLY_SET: {
        size_t n = RedisModule_CallReplyLength(r);
        RedisModule_ReplyWithArray(ctx, n);
        for (size_t i = 0; i < n; i++) {
            RedisModuleCallReply *e = RedisModule_CallReplyType(r) == REDISMODULE_REPLY_ARRAY
                ? RedisModule_CallReplyArrayElement(r, i) : RedisModule_CallReplySetElement(r, i);
            describe(ctx, e);
        }
        break;
    }
    case REDISMODULE_REPLY_MAP: {
        size_t n = RedisModule_CallReplyLength(r);
        RedisModule_ReplyWithArray(ctx, 2 * n);
        for (size_t i = 0; i < n; i++) {
            RedisModuleCallReply *k, *v;
            RedisModule_CallReplyMapElement(r, i, &k, &v);
            describe(ctx, k);
            describe(ctx, v);
        }
        break;
    }
    default:
        RedisModule_ReplyWithCString(ctx, "other");
    }
}

static int CallCmd(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, const char *fmt) {
    if (argc < 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    const char *cmd = RedisModule_StringPtrLen(argv[1], NULL);
    RedisModuleCallReply *r = RedisModule_Call(ctx, cmd, fmt, argv + 2, (size_t)(argc - 2));
    if (!r) {
        return RedisModule_ReplyWithString(ctx, RedisModule_CreateStringPrintf(ctx, "NULL errno=%s",
            errno == ENOENT ? "ENOENT" : errno == EINVAL ? "EINVAL" : "other"));
    }
    describe(ctx, r);
    return REDISMODULE_OK;
}
static int Call2(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { return CallCmd(ctx, argv, argc, "v"); }
static int Call3(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { return CallCmd(ctx, argv, argc, "3v"); }
/* t.callrep: Call with '!' (propagated) */
static int CallRep(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) { return CallCmd(ctx, argv, argc, "!v"); }

/* t.callproto cmd args: forwards the raw reply. */
static int CallProto(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) return RedisModule_WrongArity(ctx);
    RedisModuleCallReply *r = RedisModule_Call(ctx, RedisModule_StringPtrLen(argv[1], NULL), "v", argv + 2, (size_t)(argc - 2));
    if (!r) return RedisModule_ReplyWithError(ctx, "ERR call failed");
    RedisModule_ReplyWithCallReply(ctx, r);
    RedisModule_FreeCallReply(r);
    return REDISMODULE_OK;
}

/* t.callfmt key: Call with c, s, l, b specifiers. */
static int CallFmt(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModule_Call(ctx, "DEL", "s", argv[1]);
    RedisModule_Call(ctx, "RPUSH", "scbl", argv[1], "c-str", "buffer-xyz", (size_t)6, 12345LL);
    RedisModuleCallReply *r = RedisModule_Call(ctx, "LRANGE", "sll", argv[1], 0LL, -1LL);
    describe(ctx, r);
    return REDISMODULE_OK;
}

/* t.replicate key value: sets with the key API, replicates a SET. */
static int Replicate(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_StringSet(k, argv[2]);
    RedisModule_CloseKey(k);
    RedisModule_Replicate(ctx, "SET", "ss", argv[1], argv[2]);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* t.verbatim key value: key API set, replicated verbatim. */
static int Verbatim(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_StringSet(k, argv[2]);
    RedisModule_CloseKey(k);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* t.keyinfo key: type, length, ttl */
static int KeyInfo(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ);
    if (!k) return RedisModule_ReplyWithNull(ctx);
    RedisModule_ReplyWithArray(ctx, 3);
    RedisModule_ReplyWithLongLong(ctx, RedisModule_KeyType(k));
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_ValueLength(k));
    RedisModule_ReplyWithLongLong(ctx, RedisModule_GetExpire(k));
    RedisModule_CloseKey(k);
    return REDISMODULE_OK;
}

/* t.string key: StringSet, DMA uppercase, Truncate, expire, then read. */
static int StringOps(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    RedisModule_StringSet(k, RedisModule_CreateString(ctx, "hello world", 11));
    size_t len;
    char *p = RedisModule_StringDMA(k, &len, REDISMODULE_WRITE);
    for (size_t i = 0; i < len; i++) if (p[i] >= 'a' && p[i] <= 'z') p[i] -= 32;
    RedisModule_StringTruncate(k, 5);
    RedisModule_SetExpire(k, 100000);
    p = RedisModule_StringDMA(k, &len, REDISMODULE_READ);
    RedisModule_ReplyWithArray(ctx, 2);
    RedisModule_ReplyWithStringBuffer(ctx, p, len);
    RedisModule_ReplyWithLongLong(ctx, RedisModule_GetExpire(k) > 90000);
    return REDISMODULE_OK;
}

/* t.list key: push, pop, get, set, insert, delete. */
static int ListOps(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    if (RedisModule_KeyType(k) != REDISMODULE_KEYTYPE_EMPTY && RedisModule_KeyType(k) != REDISMODULE_KEYTYPE_LIST)
        return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
    RedisModule_ListPush(k, REDISMODULE_LIST_TAIL, RedisModule_CreateString(ctx, "b", 1));
    RedisModule_ListPush(k, REDISMODULE_LIST_TAIL, RedisModule_CreateString(ctx, "c", 1));
    RedisModule_ListPush(k, REDISMODULE_LIST_HEAD, RedisModule_CreateString(ctx, "a", 1));
    RedisModule_ListPush(k, REDISMODULE_LIST_TAIL, RedisModule_CreateString(ctx, "z", 1));
    RedisModuleString *popped = RedisModule_ListPop(k, REDISMODULE_LIST_TAIL);
    RedisModule_ListSet(k, 1, RedisModule_CreateString(ctx, "B", 1));
    RedisModule_ListInsert(k, 1, RedisModule_CreateString(ctx, "ins", 3));
    RedisModule_ListDelete(k, 0);
    RedisModuleString *first = RedisModule_ListGet(k, 0);
    RedisModuleString *last = RedisModule_ListGet(k, -1);
    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithString(ctx, popped);
    RedisModule_ReplyWithString(ctx, first);
    RedisModule_ReplyWithString(ctx, last);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_ValueLength(k));
    return REDISMODULE_OK;
}

/* t.hash key: HashSet/HashGet with flags. */
static int HashOps(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    RedisModuleString *v1 = RedisModule_CreateString(ctx, "v1", 2), *v2 = RedisModule_CreateString(ctx, "v2", 2);
    int n1 = RedisModule_HashSet(k, REDISMODULE_HASH_CFIELDS, "f1", v1, "f2", v2, NULL);
    int n2 = RedisModule_HashSet(k, REDISMODULE_HASH_CFIELDS | REDISMODULE_HASH_NX, "f1", v2, NULL);
    int n3 = RedisModule_HashSet(k, REDISMODULE_HASH_CFIELDS, "f2", REDISMODULE_HASH_DELETE, NULL);
    RedisModuleString *g1 = NULL, *g2 = NULL;
    RedisModule_HashGet(k, REDISMODULE_HASH_CFIELDS, "f1", &g1, "f2", &g2, NULL);
    int exists = -1;
    RedisModule_HashGet(k, REDISMODULE_HASH_CFIELDS | REDISMODULE_HASH_EXISTS, "f1", &exists, NULL);
    RedisModule_ReplyWithArray(ctx, 6);
    RedisModule_ReplyWithLongLong(ctx, n1);
    RedisModule_ReplyWithLongLong(ctx, n2);
    RedisModule_ReplyWithLongLong(ctx, n3);
    if (g1) RedisModule_ReplyWithString(ctx, g1); else RedisModule_ReplyWithNull(ctx);
    if (g2) RedisModule_ReplyWithString(ctx, g2); else RedisModule_ReplyWithNull(ctx);
    RedisModule_ReplyWithLongLong(ctx, exists);
    return REDISMODULE_OK;
}

/* t.zset key: add, incr, score, range iteration both ways, rem. */
static int ZsetOps(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        int flags = 0;
        RedisModule_ZsetAdd(k, i + 1, RedisModule_CreateString(ctx, names[i], 1), &flags);
    }
    double ns = 0;
    int flags = 0;
    RedisModule_ZsetIncrby(k, 10, RedisModule_CreateString(ctx, "a", 1), &flags, &ns);
    int nx = REDISMODULE_ZADD_NX;
    RedisModule_ZsetAdd(k, 100, RedisModule_CreateString(ctx, "b", 1), &nx);
    double score = 0;
    RedisModule_ZsetScore(k, RedisModule_CreateString(ctx, "b", 1), &score);
    int deleted = 0;
    RedisModule_ZsetRem(k, RedisModule_CreateString(ctx, "d", 1), &deleted);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    long n = 0;
    RedisModule_ReplyWithDouble(ctx, ns); n++;
    RedisModule_ReplyWithLongLong(ctx, nx == REDISMODULE_ZADD_NOP); n++;
    RedisModule_ReplyWithDouble(ctx, score); n++;
    RedisModule_ReplyWithLongLong(ctx, deleted); n++;
    /* scores in [2, +inf): b(2) c(3) a(11) */
    RedisModule_ZsetFirstInScoreRange(k, 2, REDISMODULE_POSITIVE_INFINITE, 0, 0);
    while (!RedisModule_ZsetRangeEndReached(k)) {
        double s;
        RedisModule_ReplyWithString(ctx, RedisModule_ZsetRangeCurrentElement(k, &s)); n++;
        RedisModule_ZsetRangeNext(k);
    }
    RedisModule_ZsetRangeStop(k);
    RedisModule_ZsetLastInLexRange(k, RedisModule_CreateString(ctx, "-", 1), RedisModule_CreateString(ctx, "(c", 2));
    while (!RedisModule_ZsetRangeEndReached(k)) {
        double s;
        RedisModule_ReplyWithString(ctx, RedisModule_ZsetRangeCurrentElement(k, &s)); n++;
        RedisModule_ZsetRangePrev(k);
    }
    RedisModule_ZsetRangeStop(k);
    RedisModule_ReplySetArrayLength(ctx, n);
    return REDISMODULE_OK;
}

/* t.del key / t.unlink key / t.exists key */
static int DelKey(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    int rc = RedisModule_DeleteKey(k);
    RedisModule_CloseKey(k);
    return RedisModule_ReplyWithLongLong(ctx, rc == REDISMODULE_OK);
}
static int Exists(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    return RedisModule_ReplyWithLongLong(ctx, RedisModule_KeyExists(ctx, argv[1]));
}

/* t.selectdb n key: reads key's type in db n, then goes back. */
static int SelectDb(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    long long db;
    RedisModule_StringToLongLong(argv[1], &db);
    int old = RedisModule_GetSelectedDb(ctx);
    if (RedisModule_SelectDb(ctx, (int)db) != REDISMODULE_OK) return RedisModule_ReplyWithError(ctx, "ERR bad db");
    int exists = RedisModule_KeyExists(ctx, argv[2]);
    RedisModule_SelectDb(ctx, old);
    return RedisModule_ReplyWithLongLong(ctx, exists);
}

/* t.dict: a dictionary with iterators. */
static int Dict(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    RedisModuleDict *d = RedisModule_CreateDict(ctx);
    const char *keys[] = {"delta", "alpha", "charlie", "bravo"};
    for (long i = 0; i < 4; i++) RedisModule_DictSetC(d, (void *)keys[i], strlen(keys[i]), (void *)(i + 1));
    RedisModule_DictDelC(d, "charlie", 7, NULL);
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    long n = 0;
    RedisModuleDictIter *it = RedisModule_DictIteratorStartC(d, ">=", "b", 1);
    char *key;
    size_t keylen;
    void *val;
    while ((key = RedisModule_DictNextC(it, &keylen, &val)) != NULL) {
        RedisModule_ReplyWithStringBuffer(ctx, key, keylen);
        RedisModule_ReplyWithLongLong(ctx, (long)val);
        n += 2;
    }
    RedisModule_DictIteratorStop(it);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_DictSize(d)); n++;
    int nokey = 0;
    RedisModule_DictGetC(d, "zulu", 4, &nokey);
    RedisModule_ReplyWithLongLong(ctx, nokey); n++;
    RedisModule_ReplySetArrayLength(ctx, n);
    RedisModule_FreeDict(ctx, d);
    return REDISMODULE_OK;
}

/* t.info: client id, context flags, events seen, time. */
static int Info(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_GetClientId(ctx));
    RedisModule_ReplyWithLongLong(ctx, RedisModule_GetContextFlags(ctx));
    RedisModule_ReplyWithLongLong(ctx, events_seen);
    RedisModule_ReplyWithLongLong(ctx, RedisModule_Milliseconds() > 1600000000000LL);
    return REDISMODULE_OK;
}

static int OnEvent(RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key) {
    REDISMODULE_NOT_USED(ctx); REDISMODULE_NOT_USED(type); REDISMODULE_NOT_USED(key);
    if (strcmp(event, "set") == 0 || strcmp(event, "t.event") == 0) events_seen++;
    return REDISMODULE_OK;
}

/* t.notify key: raises a module keyspace event. */
static int Notify(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_GENERIC, "t.event", argv[1]);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* t.crash: takes the shard down (the supervisor restarts it). */
static int Crash(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(ctx); REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    abort();
    return REDISMODULE_OK;
}

/* t.parent sub: a container command with a subcommand. */
static int Sub(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv);
    return RedisModule_ReplyWithLongLong(ctx, argc);
}

/* t.extras channel: database size, command name, client name, publish. */
static int Extras(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    RedisModule_AutoMemory(ctx);
    RedisModule_ReplyWithArray(ctx, 4);
    RedisModule_ReplyWithLongLong(ctx, (long long)RedisModule_DbSize(ctx));
    RedisModule_ReplyWithCString(ctx, RedisModule_GetCurrentCommandName(ctx));
    RedisModuleString *name = RedisModule_GetClientNameById(ctx, RedisModule_GetClientId(ctx));
    if (name) RedisModule_ReplyWithString(ctx, name); else RedisModule_ReplyWithNull(ctx);
    return RedisModule_ReplyWithLongLong(ctx, RedisModule_PublishMessage(ctx, argv[1], RedisModule_CreateString(ctx, "hi", 2)));
}

static int Args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
static RedisModuleString **load_args;
static int load_argc;

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (RedisModule_Init(ctx, "basics", 3, REDISMODULE_APIVER_1) == REDISMODULE_ERR) return REDISMODULE_ERR;
    load_args = RedisModule_Alloc(sizeof(RedisModuleString *) * (argc + 1));
    for (int i = 0; i < argc; i++) { load_args[i] = argv[i]; RedisModule_RetainString(ctx, argv[i]); }
    load_argc = argc;
    if (argc == 1 && strcmp(RedisModule_StringPtrLen(argv[0], NULL), "fail") == 0) return REDISMODULE_ERR;
    struct { const char *name; RedisModuleCmdFunc fn; const char *flags; int first, last, step; } cmds[] = {
        {"t.echo", Echo, "readonly fast", 0, 0, 0},
        {"t.replies", Replies, "readonly", 0, 0, 0},
        {"t.error", Error, "readonly", 0, 0, 0},
        {"t.strings", Strings, "readonly", 0, 0, 0},
        {"t.call", Call2, "write", 0, 0, 0},
        {"t.call3", Call3, "write", 0, 0, 0},
        {"t.callrep", CallRep, "write", 0, 0, 0},
        {"t.callproto", CallProto, "write", 0, 0, 0},
        {"t.callfmt", CallFmt, "write", 1, 1, 1},
        {"t.replicate", Replicate, "write deny-oom", 1, 1, 1},
        {"t.verbatim", Verbatim, "write deny-oom", 1, 1, 1},
        {"t.keyinfo", KeyInfo, "readonly", 1, 1, 1},
        {"t.string", StringOps, "write", 1, 1, 1},
        {"t.list", ListOps, "write", 1, 1, 1},
        {"t.hash", HashOps, "write", 1, 1, 1},
        {"t.zset", ZsetOps, "write", 1, 1, 1},
        {"t.del", DelKey, "write", 1, 1, 1},
        {"t.exists", Exists, "readonly", 1, 1, 1},
        {"t.selectdb", SelectDb, "readonly", 0, 0, 0},
        {"t.dict", Dict, "readonly", 0, 0, 0},
        {"t.info", Info, "readonly", 0, 0, 0},
        {"t.notify", Notify, "readonly", 1, 1, 1},
        {"t.crash", Crash, "readonly", 0, 0, 0},
        {"t.args", Args, "readonly", 0, 0, 0},
        {"t.extras", Extras, "readonly", 0, 0, 0},
        {"t.parent", NULL, "readonly", 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (RedisModule_CreateCommand(ctx, cmds[i].name, cmds[i].fn, cmds[i].flags, cmds[i].first, cmds[i].last, cmds[i].step) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    }
    RedisModuleCommand *parent = RedisModule_GetCommand(ctx, "t.parent");
    if (!parent || RedisModule_CreateSubcommand(parent, "sub", Sub, "readonly", 0, 0, 0) == REDISMODULE_ERR) return REDISMODULE_ERR;
    /* Bad flags are refused. */
    if (RedisModule_CreateCommand(ctx, "t.bad", Echo, "no-such-flag", 0, 0, 0) != REDISMODULE_ERR) return REDISMODULE_ERR;
    RedisModule_SubscribeToKeyspaceEvents(ctx, REDISMODULE_NOTIFY_STRING | REDISMODULE_NOTIFY_GENERIC, OnEvent);
    RedisModule_Log(ctx, "notice", "basics loaded with %d arguments", argc);
    return REDISMODULE_OK;
}

/* t.args: the arguments the module was loaded with. */
static int Args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    RedisModule_ReplyWithArray(ctx, load_argc);
    for (int i = 0; i < load_argc; i++) RedisModule_ReplyWithString(ctx, load_args[i]);
    return REDISMODULE_OK;
}

int RedisModule_OnUnload(RedisModuleCtx *ctx) {
    for (int i = 0; i < load_argc; i++) RedisModule_FreeString(ctx, load_args[i]);
    RedisModule_Free(load_args);
    return REDISMODULE_OK;
}
