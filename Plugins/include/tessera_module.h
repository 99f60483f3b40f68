/* tessera_module.h: Tessera's header for plugins.
 *
 * Tessera loads shared objects that use the Redis Modules C API. This header
 * declares the part of that API Tessera implements, with the same function
 * names, signatures and constants (they are the ABI, so a plugin built with
 * this header also loads into Redis 7.0, and a module built with Redis's own
 * redismodule.h loads into Tessera). Plugins/README.md lists what is not
 * implemented.
 *
 * Usage: in exactly the same way as with Redis, a plugin exports
 *     int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
 * and calls RedisModule_Init(ctx, "name", version, REDISMODULE_APIVER_1)
 * first; every RedisModule_<Name> below is a function pointer filled in by
 * RedisModule_Init (NULL when the server does not offer that function). */
#ifndef TESSERA_MODULE_H
#define TESSERA_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results, API version ---- */
#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1
#define REDISMODULE_APIVER_1 1
#define REDISMODULE_TYPE_METHOD_VERSION 4

/* ---- OpenKey modes ---- */
#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)
#define REDISMODULE_OPEN_KEY_NOTOUCH (1 << 16)

/* ---- lists ---- */
#define REDISMODULE_LIST_HEAD 0
#define REDISMODULE_LIST_TAIL 1

/* ---- key types ---- */
#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_STRING 1
#define REDISMODULE_KEYTYPE_LIST 2
#define REDISMODULE_KEYTYPE_HASH 3
#define REDISMODULE_KEYTYPE_SET 4
#define REDISMODULE_KEYTYPE_ZSET 5
#define REDISMODULE_KEYTYPE_MODULE 6
#define REDISMODULE_KEYTYPE_STREAM 7

/* ---- reply types of Call ---- */
#define REDISMODULE_REPLY_UNKNOWN -1
#define REDISMODULE_REPLY_STRING 0
#define REDISMODULE_REPLY_ERROR 1
#define REDISMODULE_REPLY_INTEGER 2
#define REDISMODULE_REPLY_ARRAY 3
#define REDISMODULE_REPLY_NULL 4
#define REDISMODULE_REPLY_MAP 5
#define REDISMODULE_REPLY_SET 6
#define REDISMODULE_REPLY_BOOL 7
#define REDISMODULE_REPLY_DOUBLE 8
#define REDISMODULE_REPLY_BIG_NUMBER 9
#define REDISMODULE_REPLY_VERBATIM_STRING 10
#define REDISMODULE_REPLY_ATTRIBUTE 11

/* Length of an aggregate reply given later (ReplySetArrayLength...). */
#define REDISMODULE_POSTPONED_LEN -1
#define REDISMODULE_POSTPONED_ARRAY_LEN -1
#define REDISMODULE_NO_EXPIRE -1

/* ---- sorted sets ---- */
#define REDISMODULE_ZADD_XX (1 << 0)
#define REDISMODULE_ZADD_NX (1 << 1)
#define REDISMODULE_ZADD_ADDED (1 << 2)
#define REDISMODULE_ZADD_UPDATED (1 << 3)
#define REDISMODULE_ZADD_NOP (1 << 4)
#define REDISMODULE_ZADD_GT (1 << 5)
#define REDISMODULE_ZADD_LT (1 << 6)
#define REDISMODULE_POSITIVE_INFINITE (1.0 / 0.0)
#define REDISMODULE_NEGATIVE_INFINITE (-1.0 / 0.0)

/* ---- hashes ---- */
#define REDISMODULE_HASH_NONE 0
#define REDISMODULE_HASH_NX (1 << 0)
#define REDISMODULE_HASH_XX (1 << 1)
#define REDISMODULE_HASH_CFIELDS (1 << 2)
#define REDISMODULE_HASH_EXISTS (1 << 3)
#define REDISMODULE_HASH_COUNT_ALL (1 << 4)
#define REDISMODULE_HASH_DELETE ((RedisModuleString *)(long)1)

/* ---- GetContextFlags ---- */
#define REDISMODULE_CTX_FLAGS_LUA (1 << 0)
#define REDISMODULE_CTX_FLAGS_MULTI (1 << 1)
#define REDISMODULE_CTX_FLAGS_MASTER (1 << 2)
#define REDISMODULE_CTX_FLAGS_SLAVE (1 << 3)
#define REDISMODULE_CTX_FLAGS_READONLY (1 << 4)
#define REDISMODULE_CTX_FLAGS_CLUSTER (1 << 5)
#define REDISMODULE_CTX_FLAGS_AOF (1 << 6)
#define REDISMODULE_CTX_FLAGS_RDB (1 << 7)
#define REDISMODULE_CTX_FLAGS_MAXMEMORY (1 << 8)
#define REDISMODULE_CTX_FLAGS_EVICT (1 << 9)
#define REDISMODULE_CTX_FLAGS_OOM (1 << 10)
#define REDISMODULE_CTX_FLAGS_OOM_WARNING (1 << 11)
#define REDISMODULE_CTX_FLAGS_REPLICATED (1 << 12)
#define REDISMODULE_CTX_FLAGS_LOADING (1 << 13)
#define REDISMODULE_CTX_FLAGS_DENY_BLOCKING (1 << 21)
#define REDISMODULE_CTX_FLAGS_RESP3 (1 << 22)

/* ---- keyspace event classes ---- */
#define REDISMODULE_NOTIFY_KEYSPACE (1 << 0)
#define REDISMODULE_NOTIFY_KEYEVENT (1 << 1)
#define REDISMODULE_NOTIFY_GENERIC (1 << 2)
#define REDISMODULE_NOTIFY_STRING (1 << 3)
#define REDISMODULE_NOTIFY_LIST (1 << 4)
#define REDISMODULE_NOTIFY_SET (1 << 5)
#define REDISMODULE_NOTIFY_HASH (1 << 6)
#define REDISMODULE_NOTIFY_ZSET (1 << 7)
#define REDISMODULE_NOTIFY_EXPIRED (1 << 8)
#define REDISMODULE_NOTIFY_EVICTED (1 << 9)
#define REDISMODULE_NOTIFY_STREAM (1 << 10)
#define REDISMODULE_NOTIFY_KEY_MISS (1 << 11)
#define REDISMODULE_NOTIFY_LOADED (1 << 12)
#define REDISMODULE_NOTIFY_MODULE (1 << 13)
#define REDISMODULE_NOTIFY_NEW (1 << 14)
#define REDISMODULE_NOTIFY_ALL (REDISMODULE_NOTIFY_GENERIC | REDISMODULE_NOTIFY_STRING | REDISMODULE_NOTIFY_LIST | \
    REDISMODULE_NOTIFY_SET | REDISMODULE_NOTIFY_HASH | REDISMODULE_NOTIFY_ZSET | REDISMODULE_NOTIFY_EXPIRED | \
    REDISMODULE_NOTIFY_EVICTED | REDISMODULE_NOTIFY_STREAM | REDISMODULE_NOTIFY_MODULE)

/* ---- misc ---- */
#define REDISMODULE_ERRORMSG_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define REDISMODULE_LOGLEVEL_DEBUG "debug"
#define REDISMODULE_LOGLEVEL_VERBOSE "verbose"
#define REDISMODULE_LOGLEVEL_NOTICE "notice"
#define REDISMODULE_LOGLEVEL_WARNING "warning"
#define REDISMODULE_AUX_BEFORE_RDB (1 << 0)
#define REDISMODULE_AUX_AFTER_RDB (1 << 1)
#define REDISMODULE_OPTIONS_HANDLE_IO_ERRORS (1 << 0)
#define REDISMODULE_OPTION_NO_IMPLICIT_SIGNAL_MODIFIED (1 << 1)
#define REDISMODULE_NOT_USED(V) ((void)V)

typedef long long mstime_t;

/* ---- opaque handles ---- */
typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleCommand RedisModuleCommand;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleCallReply RedisModuleCallReply;
typedef struct RedisModuleIO RedisModuleIO;
typedef struct RedisModuleType RedisModuleType;
typedef struct RedisModuleDigest RedisModuleDigest;
typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;
typedef struct RedisModuleDict RedisModuleDict;
typedef struct RedisModuleDictIter RedisModuleDictIter;
typedef struct RedisModuleKeyOptCtx RedisModuleKeyOptCtx;
typedef struct RedisModuleDefragCtx RedisModuleDefragCtx;
typedef struct RedisModuleCommandInfo RedisModuleCommandInfo;
typedef uint64_t RedisModuleTimerID;
/* A server event (SubscribeToServerEvent is not implemented; IsSubEventSupported says so). */
typedef struct RedisModuleEvent { uint64_t id; uint64_t dataver; } RedisModuleEvent;

/* ---- callbacks ---- */
typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
typedef void (*RedisModuleDisconnectFunc)(RedisModuleCtx *ctx, RedisModuleBlockedClient *bc);
typedef int (*RedisModuleNotificationFunc)(RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key);
typedef void *(*RedisModuleTypeLoadFunc)(RedisModuleIO *rdb, int encver);
typedef void (*RedisModuleTypeSaveFunc)(RedisModuleIO *rdb, void *value);
typedef int (*RedisModuleTypeAuxLoadFunc)(RedisModuleIO *rdb, int encver, int when);
typedef void (*RedisModuleTypeAuxSaveFunc)(RedisModuleIO *rdb, int when);
typedef void (*RedisModuleTypeRewriteFunc)(RedisModuleIO *aof, RedisModuleString *key, void *value);
typedef size_t (*RedisModuleTypeMemUsageFunc)(const void *value);
typedef size_t (*RedisModuleTypeMemUsageFunc2)(RedisModuleKeyOptCtx *ctx, const void *value, size_t sample_size);
typedef void (*RedisModuleTypeDigestFunc)(RedisModuleDigest *digest, void *value);
typedef void (*RedisModuleTypeFreeFunc)(void *value);
typedef size_t (*RedisModuleTypeFreeEffortFunc)(RedisModuleString *key, const void *value);
typedef size_t (*RedisModuleTypeFreeEffortFunc2)(RedisModuleKeyOptCtx *ctx, const void *value);
typedef void (*RedisModuleTypeUnlinkFunc)(RedisModuleString *key, const void *value);
typedef void (*RedisModuleTypeUnlinkFunc2)(RedisModuleKeyOptCtx *ctx, const void *value);
typedef void *(*RedisModuleTypeCopyFunc)(RedisModuleString *fromkey, RedisModuleString *tokey, const void *value);
typedef void *(*RedisModuleTypeCopyFunc2)(RedisModuleKeyOptCtx *ctx, const void *value);
typedef int (*RedisModuleTypeDefragFunc)(RedisModuleDefragCtx *ctx, RedisModuleString *key, void **value);
typedef void (*RedisModuleTimerProc)(RedisModuleCtx *ctx, void *data);

/* What CreateDataType receives; set `version` to REDISMODULE_TYPE_METHOD_VERSION. */
typedef struct RedisModuleTypeMethods {
    uint64_t version;
    RedisModuleTypeLoadFunc rdb_load;
    RedisModuleTypeSaveFunc rdb_save;
    RedisModuleTypeRewriteFunc aof_rewrite;
    RedisModuleTypeMemUsageFunc mem_usage;
    RedisModuleTypeDigestFunc digest;
    RedisModuleTypeFreeFunc free;
    RedisModuleTypeAuxLoadFunc aux_load;
    RedisModuleTypeAuxSaveFunc aux_save;
    int aux_save_triggers;
    RedisModuleTypeFreeEffortFunc free_effort;
    RedisModuleTypeUnlinkFunc unlink;
    RedisModuleTypeCopyFunc copy;
    RedisModuleTypeDefragFunc defrag;
    RedisModuleTypeMemUsageFunc2 mem_usage2;
    RedisModuleTypeFreeEffortFunc2 free_effort2;
    RedisModuleTypeUnlinkFunc2 unlink2;
    RedisModuleTypeCopyFunc2 copy2;
} RedisModuleTypeMethods;

/* ---- the API: (return type, name, parameters) of each function ---- */
#define TM_API_FUNCTIONS(X) \
    X(int, GetApi, (const char *, void *)) \
    X(void *, Alloc, (size_t bytes)) \
    X(void *, TryAlloc, (size_t bytes)) \
    X(void *, Calloc, (size_t nmemb, size_t size)) \
    X(void *, Realloc, (void *ptr, size_t bytes)) \
    X(void, Free, (void *ptr)) \
    X(char *, Strdup, (const char *str)) \
    X(void *, PoolAlloc, (RedisModuleCtx *ctx, size_t bytes)) \
    X(void, AutoMemory, (RedisModuleCtx *ctx)) \
    X(size_t, MallocSize, (void* ptr)) \
    X(size_t, MallocSizeString, (RedisModuleString* str)) \
    X(size_t, MallocSizeDict, (RedisModuleDict* dict)) \
    X(RedisModuleString *, CreateString, (RedisModuleCtx *ctx, const char *ptr, size_t len)) \
    X(RedisModuleString *, CreateStringPrintf, (RedisModuleCtx *ctx, const char *fmt, ...)) \
    X(RedisModuleString *, CreateStringFromLongLong, (RedisModuleCtx *ctx, long long ll)) \
    X(RedisModuleString *, CreateStringFromULongLong, (RedisModuleCtx *ctx, unsigned long long ull)) \
    X(RedisModuleString *, CreateStringFromDouble, (RedisModuleCtx *ctx, double d)) \
    X(RedisModuleString *, CreateStringFromLongDouble, (RedisModuleCtx *ctx, long double ld, int humanfriendly)) \
    X(RedisModuleString *, CreateStringFromString, (RedisModuleCtx *ctx, const RedisModuleString *str)) \
    X(RedisModuleString *, CreateStringFromCallReply, (RedisModuleCallReply *reply)) \
    X(void, FreeString, (RedisModuleCtx *ctx, RedisModuleString *str)) \
    X(void, RetainString, (RedisModuleCtx *ctx, RedisModuleString *str)) \
    X(RedisModuleString *, HoldString, (RedisModuleCtx *ctx, RedisModuleString *str)) \
    X(const char *, StringPtrLen, (const RedisModuleString *str, size_t *len)) \
    X(int, StringToLongLong, (const RedisModuleString *str, long long *ll)) \
    X(int, StringToULongLong, (const RedisModuleString *str, unsigned long long *ull)) \
    X(int, StringToDouble, (const RedisModuleString *str, double *d)) \
    X(int, StringToLongDouble, (const RedisModuleString *str, long double *d)) \
    X(int, StringCompare, (RedisModuleString *a, RedisModuleString *b)) \
    X(int, StringAppendBuffer, (RedisModuleCtx *ctx, RedisModuleString *str, const char *buf, size_t len)) \
    X(void, TrimStringAllocation, (RedisModuleString *str)) \
    X(RedisModuleCallReply *, Call, (RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...)) \
    X(int, CallReplyType, (RedisModuleCallReply *reply)) \
    X(size_t, CallReplyLength, (RedisModuleCallReply *reply)) \
    X(long long, CallReplyInteger, (RedisModuleCallReply *reply)) \
    X(double, CallReplyDouble, (RedisModuleCallReply *reply)) \
    X(int, CallReplyBool, (RedisModuleCallReply *reply)) \
    X(const char*, CallReplyBigNumber, (RedisModuleCallReply *reply, size_t *len)) \
    X(const char*, CallReplyVerbatim, (RedisModuleCallReply *reply, size_t *len, const char **format)) \
    X(const char *, CallReplyStringPtr, (RedisModuleCallReply *reply, size_t *len)) \
    X(RedisModuleCallReply *, CallReplyArrayElement, (RedisModuleCallReply *reply, size_t idx)) \
    X(RedisModuleCallReply *, CallReplySetElement, (RedisModuleCallReply *reply, size_t idx)) \
    X(int, CallReplyMapElement, (RedisModuleCallReply *reply, size_t idx, RedisModuleCallReply **key, RedisModuleCallReply **val)) \
    X(RedisModuleCallReply *, CallReplyAttribute, (RedisModuleCallReply *reply)) \
    X(int, CallReplyAttributeElement, (RedisModuleCallReply *reply, size_t idx, RedisModuleCallReply **key, RedisModuleCallReply **val)) \
    X(const char *, CallReplyProto, (RedisModuleCallReply *reply, size_t *len)) \
    X(void, FreeCallReply, (RedisModuleCallReply *reply)) \
    X(void, Log, (RedisModuleCtx *ctx, const char *level, const char *fmt, ...)) \
    X(void, LogIOError, (RedisModuleIO *io, const char *levelstr, const char *fmt, ...)) \
    X(int, Replicate, (RedisModuleCtx *ctx, const char *cmdname, const char *fmt, ...)) \
    X(void, EmitAOF, (RedisModuleIO *io, const char *cmdname, const char *fmt, ...)) \
    X(int, HashSet, (RedisModuleKey *key, int flags, ...)) \
    X(int, HashGet, (RedisModuleKey *key, int flags, ...)) \
    X(long long, Milliseconds, (void)) \
    X(uint64_t, MonotonicMicroseconds, (void)) \
    X(void, GetRandomBytes, (unsigned char *dst, size_t len)) \
    X(void, GetRandomHexChars, (char *dst, size_t len)) \
    X(int, GetTypeMethodVersion, (void)) \
    X(int, GetServerVersion, (void)) \
    X(int, IsKeysPositionRequest, (RedisModuleCtx *ctx)) \
    X(void, KeyAtPos, (RedisModuleCtx *ctx, int pos)) \
    X(void, KeyAtPosWithFlags, (RedisModuleCtx *ctx, int pos, int flags)) \
    X(void, SetModuleOptions, (RedisModuleCtx *ctx, int options)) \
    X(void, _Assert, (const char *estr, const char *file, int line)) \
    X(void, DigestAddStringBuffer, (RedisModuleDigest *md, const char *ele, size_t len)) \
    X(void, DigestAddLongLong, (RedisModuleDigest *md, long long ele)) \
    X(void, DigestEndSequence, (RedisModuleDigest *md)) \
    X(void, ThreadSafeContextLock, (RedisModuleCtx *ctx)) \
    X(int, ThreadSafeContextTryLock, (RedisModuleCtx *ctx)) \
    X(void, ThreadSafeContextUnlock, (RedisModuleCtx *ctx)) \
    X(size_t, MallocUsableSize, (void *ptr)) \
    X(int, AvoidReplicaTraffic, (void)) \
    X(const char *, GetMyClusterID, (void)) \
    X(size_t, GetClusterSize, (void)) \
    X(void, LatencyAddSample, (const char *event, mstime_t latency)) \
    X(RedisModuleDict *, CreateDict, (RedisModuleCtx *ctx)) \
    X(void, FreeDict, (RedisModuleCtx *ctx, RedisModuleDict *d)) \
    X(uint64_t, DictSize, (RedisModuleDict *d)) \
    X(int, DictSetC, (RedisModuleDict *d, void *key, size_t keylen, void *ptr)) \
    X(int, DictReplaceC, (RedisModuleDict *d, void *key, size_t keylen, void *ptr)) \
    X(int, DictSet, (RedisModuleDict *d, RedisModuleString *key, void *ptr)) \
    X(int, DictReplace, (RedisModuleDict *d, RedisModuleString *key, void *ptr)) \
    X(void *, DictGetC, (RedisModuleDict *d, void *key, size_t keylen, int *nokey)) \
    X(void *, DictGet, (RedisModuleDict *d, RedisModuleString *key, int *nokey)) \
    X(int, DictDelC, (RedisModuleDict *d, void *key, size_t keylen, void *oldval)) \
    X(int, DictDel, (RedisModuleDict *d, RedisModuleString *key, void *oldval)) \
    X(RedisModuleDictIter *, DictIteratorStartC, (RedisModuleDict *d, const char *op, void *key, size_t keylen)) \
    X(RedisModuleDictIter *, DictIteratorStart, (RedisModuleDict *d, const char *op, RedisModuleString *key)) \
    X(void, DictIteratorStop, (RedisModuleDictIter *di)) \
    X(int, DictIteratorReseekC, (RedisModuleDictIter *di, const char *op, void *key, size_t keylen)) \
    X(int, DictIteratorReseek, (RedisModuleDictIter *di, const char *op, RedisModuleString *key)) \
    X(void *, DictNextC, (RedisModuleDictIter *di, size_t *keylen, void **dataptr)) \
    X(void *, DictPrevC, (RedisModuleDictIter *di, size_t *keylen, void **dataptr)) \
    X(RedisModuleString *, DictNext, (RedisModuleCtx *ctx, RedisModuleDictIter *di, void **dataptr)) \
    X(RedisModuleString *, DictPrev, (RedisModuleCtx *ctx, RedisModuleDictIter *di, void **dataptr)) \
    X(int, DictCompareC, (RedisModuleDictIter *di, const char *op, void *key, size_t keylen)) \
    X(int, DictCompare, (RedisModuleDictIter *di, const char *op, RedisModuleString *key)) \
    X(void, SetModuleAttribs, (RedisModuleCtx *ctx, const char *name, int ver, int apiver)) \
    X(int, IsModuleNameBusy, (const char *name)) \
    X(int, CreateCommand, (RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc cmdfunc, const char *strflags, int firstkey, int lastkey, int keystep)) \
    X(RedisModuleCommand *, GetCommand, (RedisModuleCtx *ctx, const char *name)) \
    X(int, CreateSubcommand, (RedisModuleCommand *parent, const char *name, RedisModuleCmdFunc cmdfunc, const char *strflags, int firstkey, int lastkey, int keystep)) \
    X(int, SetCommandInfo, (RedisModuleCommand *command, const RedisModuleCommandInfo *info)) \
    X(int, WrongArity, (RedisModuleCtx *ctx)) \
    X(int, ReplyWithLongLong, (RedisModuleCtx *ctx, long long ll)) \
    X(int, ReplyWithError, (RedisModuleCtx *ctx, const char *err)) \
    X(int, ReplyWithSimpleString, (RedisModuleCtx *ctx, const char *msg)) \
    X(int, ReplyWithArray, (RedisModuleCtx *ctx, long len)) \
    X(int, ReplyWithMap, (RedisModuleCtx *ctx, long len)) \
    X(int, ReplyWithSet, (RedisModuleCtx *ctx, long len)) \
    X(int, ReplyWithAttribute, (RedisModuleCtx *ctx, long len)) \
    X(void, ReplySetArrayLength, (RedisModuleCtx *ctx, long len)) \
    X(void, ReplySetMapLength, (RedisModuleCtx *ctx, long len)) \
    X(void, ReplySetSetLength, (RedisModuleCtx *ctx, long len)) \
    X(void, ReplySetAttributeLength, (RedisModuleCtx *ctx, long len)) \
    X(int, ReplyWithStringBuffer, (RedisModuleCtx *ctx, const char *buf, size_t len)) \
    X(int, ReplyWithCString, (RedisModuleCtx *ctx, const char *buf)) \
    X(int, ReplyWithString, (RedisModuleCtx *ctx, RedisModuleString *str)) \
    X(int, ReplyWithEmptyString, (RedisModuleCtx *ctx)) \
    X(int, ReplyWithVerbatimString, (RedisModuleCtx *ctx, const char *buf, size_t len)) \
    X(int, ReplyWithVerbatimStringType, (RedisModuleCtx *ctx, const char *buf, size_t len, const char *ext)) \
    X(int, ReplyWithNull, (RedisModuleCtx *ctx)) \
    X(int, ReplyWithNullArray, (RedisModuleCtx *ctx)) \
    X(int, ReplyWithEmptyArray, (RedisModuleCtx *ctx)) \
    X(int, ReplyWithBool, (RedisModuleCtx *ctx, int b)) \
    X(int, ReplyWithDouble, (RedisModuleCtx *ctx, double d)) \
    X(int, ReplyWithBigNumber, (RedisModuleCtx *ctx, const char *bignum, size_t len)) \
    X(int, ReplyWithLongDouble, (RedisModuleCtx *ctx, long double d)) \
    X(int, ReplyWithCallReply, (RedisModuleCtx *ctx, RedisModuleCallReply *reply)) \
    X(RedisModuleKey *, OpenKey, (RedisModuleCtx *ctx, RedisModuleString *keyname, int mode)) \
    X(void, CloseKey, (RedisModuleKey *kp)) \
    X(int, KeyType, (RedisModuleKey *kp)) \
    X(size_t, ValueLength, (RedisModuleKey *kp)) \
    X(int, DeleteKey, (RedisModuleKey *key)) \
    X(int, UnlinkKey, (RedisModuleKey *key)) \
    X(mstime_t, GetExpire, (RedisModuleKey *key)) \
    X(int, SetExpire, (RedisModuleKey *key, mstime_t expire)) \
    X(mstime_t, GetAbsExpire, (RedisModuleKey *key)) \
    X(int, SetAbsExpire, (RedisModuleKey *key, mstime_t expire)) \
    X(int, StringSet, (RedisModuleKey *key, RedisModuleString *str)) \
    X(char *, StringDMA, (RedisModuleKey *key, size_t *len, int mode)) \
    X(int, StringTruncate, (RedisModuleKey *key, size_t newlen)) \
    X(int, ListPush, (RedisModuleKey *kp, int where, RedisModuleString *ele)) \
    X(RedisModuleString *, ListPop, (RedisModuleKey *key, int where)) \
    X(RedisModuleString *, ListGet, (RedisModuleKey *key, long index)) \
    X(int, ListSet, (RedisModuleKey *key, long index, RedisModuleString *value)) \
    X(int, ListInsert, (RedisModuleKey *key, long index, RedisModuleString *value)) \
    X(int, ListDelete, (RedisModuleKey *key, long index)) \
    X(int, ZsetAdd, (RedisModuleKey *key, double score, RedisModuleString *ele, int *flagsptr)) \
    X(int, ZsetIncrby, (RedisModuleKey *key, double score, RedisModuleString *ele, int *flagsptr, double *newscore)) \
    X(int, ZsetRem, (RedisModuleKey *key, RedisModuleString *ele, int *deleted)) \
    X(int, ZsetScore, (RedisModuleKey *key, RedisModuleString *ele, double *score)) \
    X(void, ZsetRangeStop, (RedisModuleKey *key)) \
    X(int, ZsetFirstInScoreRange, (RedisModuleKey *key, double min, double max, int minex, int maxex)) \
    X(int, ZsetLastInScoreRange, (RedisModuleKey *key, double min, double max, int minex, int maxex)) \
    X(int, ZsetFirstInLexRange, (RedisModuleKey *key, RedisModuleString *min, RedisModuleString *max)) \
    X(int, ZsetLastInLexRange, (RedisModuleKey *key, RedisModuleString *min, RedisModuleString *max)) \
    X(RedisModuleString *, ZsetRangeCurrentElement, (RedisModuleKey *key, double *score)) \
    X(int, ZsetRangeNext, (RedisModuleKey *key)) \
    X(int, ZsetRangePrev, (RedisModuleKey *key)) \
    X(int, ZsetRangeEndReached, (RedisModuleKey *key)) \
    X(int, SelectDb, (RedisModuleCtx *ctx, int newid)) \
    X(int, GetSelectedDb, (RedisModuleCtx *ctx)) \
    X(int, KeyExists, (RedisModuleCtx *ctx, RedisModuleString *keyname)) \
    X(const RedisModuleString *, GetKeyNameFromModuleKey, (RedisModuleKey *key)) \
    X(int, GetDbIdFromModuleKey, (RedisModuleKey *key)) \
    X(int, ModuleTypeSetValue, (RedisModuleKey *key, RedisModuleType *mt, void *value)) \
    X(RedisModuleType *, ModuleTypeGetType, (RedisModuleKey *key)) \
    X(void *, ModuleTypeGetValue, (RedisModuleKey *key)) \
    X(int, ModuleTypeReplaceValue, (RedisModuleKey *key, RedisModuleType *mt, void *new_value, void **old_value)) \
    X(int, ReplicateVerbatim, (RedisModuleCtx *ctx)) \
    X(RedisModuleType *, CreateDataType, (RedisModuleCtx *ctx, const char *name, int encver, RedisModuleTypeMethods *typemethods)) \
    X(void, SaveUnsigned, (RedisModuleIO *io, uint64_t value)) \
    X(uint64_t, LoadUnsigned, (RedisModuleIO *io)) \
    X(void, SaveSigned, (RedisModuleIO *io, int64_t value)) \
    X(int64_t, LoadSigned, (RedisModuleIO *io)) \
    X(void, SaveString, (RedisModuleIO *io, RedisModuleString *s)) \
    X(void, SaveStringBuffer, (RedisModuleIO *io, const char *str, size_t len)) \
    X(RedisModuleString *, LoadString, (RedisModuleIO *io)) \
    X(char *, LoadStringBuffer, (RedisModuleIO *io, size_t *lenptr)) \
    X(void, SaveDouble, (RedisModuleIO *io, double value)) \
    X(double, LoadDouble, (RedisModuleIO *io)) \
    X(void, SaveFloat, (RedisModuleIO *io, float value)) \
    X(float, LoadFloat, (RedisModuleIO *io)) \
    X(void, SaveLongDouble, (RedisModuleIO *io, long double value)) \
    X(long double, LoadLongDouble, (RedisModuleIO *io)) \
    X(RedisModuleCtx *, GetContextFromIO, (RedisModuleIO *io)) \
    X(const RedisModuleString *, GetKeyNameFromIO, (RedisModuleIO *io)) \
    X(int, GetDbIdFromIO, (RedisModuleIO *io)) \
    X(int, IsIOError, (RedisModuleIO *io)) \
    X(RedisModuleTimerID, CreateTimer, (RedisModuleCtx *ctx, mstime_t period, RedisModuleTimerProc callback, void *data)) \
    X(int, StopTimer, (RedisModuleCtx *ctx, RedisModuleTimerID id, void **data)) \
    X(int, GetTimerInfo, (RedisModuleCtx *ctx, RedisModuleTimerID id, uint64_t *remaining, void **data)) \
    X(RedisModuleBlockedClient *, BlockClient, (RedisModuleCtx *ctx, RedisModuleCmdFunc reply_callback, RedisModuleCmdFunc timeout_callback, void (*free_privdata)(RedisModuleCtx*,void*), long long timeout_ms)) \
    X(int, UnblockClient, (RedisModuleBlockedClient *bc, void *privdata)) \
    X(int, IsBlockedReplyRequest, (RedisModuleCtx *ctx)) \
    X(int, IsBlockedTimeoutRequest, (RedisModuleCtx *ctx)) \
    X(void *, GetBlockedClientPrivateData, (RedisModuleCtx *ctx)) \
    X(RedisModuleBlockedClient *, GetBlockedClientHandle, (RedisModuleCtx *ctx)) \
    X(int, AbortBlock, (RedisModuleBlockedClient *bc)) \
    X(int, BlockedClientDisconnected, (RedisModuleCtx *ctx)) \
    X(RedisModuleBlockedClient *, BlockClientOnKeys, (RedisModuleCtx *ctx, RedisModuleCmdFunc reply_callback, RedisModuleCmdFunc timeout_callback, void (*free_privdata)(RedisModuleCtx*,void*), long long timeout_ms, RedisModuleString **keys, int numkeys, void *privdata)) \
    X(void, SignalKeyAsReady, (RedisModuleCtx *ctx, RedisModuleString *key)) \
    X(RedisModuleString *, GetBlockedClientReadyKey, (RedisModuleCtx *ctx)) \
    X(void, SetDisconnectCallback, (RedisModuleBlockedClient *bc, RedisModuleDisconnectFunc callback)) \
    X(RedisModuleCtx *, GetThreadSafeContext, (RedisModuleBlockedClient *bc)) \
    X(RedisModuleCtx *, GetDetachedThreadSafeContext, (RedisModuleCtx *ctx)) \
    X(void, FreeThreadSafeContext, (RedisModuleCtx *ctx)) \
    X(unsigned long long, GetClientId, (RedisModuleCtx *ctx)) \
    X(int, GetContextFlags, (RedisModuleCtx *ctx)) \
    X(int, SubscribeToKeyspaceEvents, (RedisModuleCtx *ctx, int types, RedisModuleNotificationFunc cb)) \
    X(int, NotifyKeyspaceEvent, (RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key)) \
    X(int, GetNotifyKeyspaceEvents, (void)) \
    X(int, SignalModifiedKey, (RedisModuleCtx *ctx, RedisModuleString *keyname)) \
    X(unsigned long long, DbSize, (RedisModuleCtx *ctx)) \
    X(RedisModuleString *, RandomKey, (RedisModuleCtx *ctx)) \
    X(void, ResetDataset, (int restart_aof, int async)) \
    X(int, PublishMessage, (RedisModuleCtx *ctx, RedisModuleString *channel, RedisModuleString *message)) \
    X(int, PublishMessageShard, (RedisModuleCtx *ctx, RedisModuleString *channel, RedisModuleString *message)) \
    X(RedisModuleString *, GetClientNameById, (RedisModuleCtx *ctx, uint64_t id)) \
    X(int, SetClientNameById, (uint64_t id, RedisModuleString *name)) \
    X(int, GetClientInfoById, (void *ci, uint64_t id)) \
    X(const char *, GetCurrentCommandName, (RedisModuleCtx *ctx)) \
    X(int, GetLRU, (RedisModuleKey *key, mstime_t *lru_idle)) \
    X(int, SetLRU, (RedisModuleKey *key, mstime_t lru_idle)) \
    X(int, GetLFU, (RedisModuleKey *key, long long *lfu_freq)) \
    X(int, SetLFU, (RedisModuleKey *key, long long lfu_freq)) \
    X(float, GetUsedMemoryRatio, (void)) \
    X(int, GetContextFlagsAll, (void)) \
    X(int, GetKeyspaceNotificationFlagsAll, (void)) \
    X(int, IsSubEventSupported, (RedisModuleEvent event, uint64_t subevent)) \
    X(void, Yield, (RedisModuleCtx *ctx, int flags, const char *busy_reply)) \
    X(int, BlockedClientMeasureTimeStart, (RedisModuleBlockedClient *bc)) \
    X(int, BlockedClientMeasureTimeEnd, (RedisModuleBlockedClient *bc)) \
    X(void, ReplySetPushLength, (RedisModuleCtx *ctx, long len)) \
    X(int, IsChannelsPositionRequest, (RedisModuleCtx *ctx)) \
    X(void, ChannelAtPosWithFlags, (RedisModuleCtx *ctx, int pos, int flags)) \
    X(RedisModuleString *, GetClientUserNameById, (RedisModuleCtx *ctx, uint64_t id)) \
    X(RedisModuleString *, GetCurrentUserName, (RedisModuleCtx *ctx))

/* One pointer per function, shared by all the plugin's files (common symbols). */
#if defined(__GNUC__) && !(defined(__clang__) && defined(__cplusplus))
#define TM_COMMON __attribute__((__common__))
#else
#define TM_COMMON
#endif
#define TM_DECLARE_POINTER(ret, name, params) ret (*RedisModule_##name) params TM_COMMON;
TM_API_FUNCTIONS(TM_DECLARE_POINTER)
#undef TM_DECLARE_POINTER

#define RedisModule_IsAOFClient(id) ((id) == UINT64_MAX)
#define RedisModule_Assert(e) ((e) ? (void)0 : (RedisModule__Assert(#e, __FILE__, __LINE__), exit(1)))
#define RMAPI_FUNC_SUPPORTED(func) (func != NULL)

/* Fills every RedisModule_<Name> pointer through the GetApi function the
 * server placed first in the context, then registers the plugin's name. */
static int RedisModule_Init(RedisModuleCtx *ctx, const char *name, int ver, int apiver) __attribute__((unused));
static int RedisModule_Init(RedisModuleCtx *ctx, const char *name, int ver, int apiver) {
    RedisModule_GetApi = (int (*)(const char *, void *))(unsigned long)((void **)ctx)[0];
#define TM_FETCH(ret, name, params) RedisModule_GetApi("RedisModule_" #name, (void *)&RedisModule_##name);
    TM_API_FUNCTIONS(TM_FETCH)
#undef TM_FETCH
    if (RedisModule_IsModuleNameBusy && RedisModule_IsModuleNameBusy(name)) return REDISMODULE_ERR;
    RedisModule_SetModuleAttribs(ctx, name, ver, apiver);
    return REDISMODULE_OK;
}

#ifdef __cplusplus
}
#endif
#endif
