/* Tessera's side of the plugin C ABI: the layouts of the handles the
 * Redis-Modules-compatible API hands to plugins, shared by the C half
 * (variadic functions, strings, call replies, dictionaries, the GetApi
 * table) and the Swift half (PluginHost: everything touching the engine).
 * Plugins never see these layouts; they only pass the pointers back. */
#ifndef TSM_ABI_H
#define TSM_ABI_H

#include <stddef.h>
#include <stdint.h>

#define TSM_OK 0
#define TSM_ERR 1

typedef struct RedisModuleString {
    int32_t refcount;
    uint32_t flags;
    size_t len;
    char *ptr;           /* NUL-terminated, malloc'ed */
} RedisModuleString;

/* Kinds of resources released at the end of a callback with AutoMemory. */
enum { TSM_AM_STRING = 1, TSM_AM_KEY = 2, TSM_AM_REPLY = 3, TSM_AM_DICT = 4 };

typedef struct TSMAutoMem { int kind; void *ptr; } TSMAutoMem;

/* ctx->flags */
#define TSM_CTX_AUTO_MEMORY     (1 << 0)
#define TSM_CTX_THREAD_SAFE     (1 << 1)
#define TSM_CTX_BLOCKED_REPLY   (1 << 2)
#define TSM_CTX_BLOCKED_TIMEOUT (1 << 3)
#define TSM_CTX_BLOCKED_DISCONNECTED (1 << 4)
#define TSM_CTX_REPLY_VERBATIM  (1 << 5)   /* Call: '!' was used */
#define TSM_CTX_IN_COMMAND      (1 << 6)

#define TSM_MAX_POSTPONED 64

typedef struct RedisModuleCtx {
    void *getapifuncptr;         /* must stay first: RedisModule_Init reads it */
    void *module;                /* PluginModule (Swift, unretained) */
    void *client;                /* Engine Client (Swift, unretained) or NULL */
    int flags;
    int postponed_count;
    long postponed[TSM_MAX_POSTPONED];   /* reply marks of postponed lengths */
    int postponed_kind[TSM_MAX_POSTPONED];
    TSMAutoMem *am;
    int am_count, am_cap;
    void *pool;                  /* PoolAlloc blocks, freed with the context */
    void *bc;                    /* RedisModuleBlockedClient (Swift) */
    void *blocked_privdata;
    RedisModuleString *blocked_ready_key;
    int dbid;                    /* contexts without a client (timers, threads) */
} RedisModuleCtx;

/* A reply of RedisModule_Call, parsed from the RESP the command wrote. */
typedef struct RedisModuleCallReply {
    int type;                    /* REDISMODULE_REPLY_* */
    size_t len;                  /* string length or element count */
    const char *str;             /* strings, errors, verbatim, big numbers */
    long long integer;           /* integers, bools */
    double dval;
    struct RedisModuleCallReply *elements;   /* arrays, maps (2*len), sets */
    const char *proto;           /* this reply's RESP bytes */
    size_t protolen;
    char format[4];              /* verbatim format */
    int root;                    /* owns the buffers */
    char *buffer;                /* root: the RESP bytes */
    RedisModuleCtx *ctx;
} RedisModuleCallReply;

/* Parses RESP bytes (copied) into a reply tree; NULL if malformed. */
RedisModuleCallReply *tsm_callreply_parse(RedisModuleCtx *ctx, const char *proto, size_t len);
void tsm_callreply_free(RedisModuleCallReply *r);

/* Strings (also used by the Swift half). */
RedisModuleString *tsm_string_new(RedisModuleCtx *ctx, const char *ptr, size_t len);
void tsm_string_release(RedisModuleString *s);
int tsm_format_long_double_hex(char *buf, size_t len, long double v);
RedisModuleString *RM_CreateStringFromLongDouble(RedisModuleCtx *ctx, long double ld, int humanfriendly);
int RM_StringToLongLong(const RedisModuleString *s, long long *ll);
int RM_StringToDouble(const RedisModuleString *s, double *d);

/* Context lifecycle: init before a callback, finish after it (AutoMemory,
 * pool). `getapi` is filled in. */
void tsm_ctx_init(RedisModuleCtx *ctx, void *module, void *client);
void tsm_ctx_finish(RedisModuleCtx *ctx);
void tsm_automem_add(RedisModuleCtx *ctx, int kind, void *ptr);
void tsm_automem_remove(RedisModuleCtx *ctx, void *ptr);

/* RedisModule_Call flags parsed from the format string. */
#define TSM_CALL_REPLICATE   (1 << 0)   /* ! */
#define TSM_CALL_NO_AOF      (1 << 1)   /* A */
#define TSM_CALL_NO_REPLICAS (1 << 2)   /* R */
#define TSM_CALL_RESP3       (1 << 3)   /* 3 */
#define TSM_CALL_RESP_AUTO   (1 << 4)   /* 0 */
#define TSM_CALL_CHECK_ACL   (1 << 5)   /* C */
#define TSM_CALL_SCRIPT_MODE (1 << 6)   /* S */
#define TSM_CALL_NO_WRITES   (1 << 7)   /* W */
#define TSM_CALL_DENY_OOM    (1 << 8)   /* M */
#define TSM_CALL_ERRORS_AS_REPLIES (1 << 9)  /* E */
#define TSM_CALL_BAD_FORMAT  (1 << 30)

/* Flags of a Call format, and how many arguments it consumes per kind
 * ("c s b l v"); returns the flags, TSM_CALL_BAD_FORMAT on an unknown letter. */
int tsm_call_format_flags(const char *fmt, int *nargs);

/* Looks up an API function by name ("RedisModule_X" or "ValkeyModule_X");
 * NULL if unknown. */
void *tsm_api_lookup(const char *name);
/* Number of API functions in the table. */
int tsm_api_count(void);
const char *tsm_api_name(int i);

/* The shim that calls a plugin's command function (avoids Swift casting
 * arbitrary C function pointers). */
int tsm_call_cmd(void *fn, RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int tsm_call_onload(void *fn, RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void tsm_call_timer(void *fn, RedisModuleCtx *ctx, void *data);
int tsm_call_notify(void *fn, RedisModuleCtx *ctx, int type, const char *event, RedisModuleString *key);
void *tsm_call_rdb_load(void *fn, void *io, int encver);
void tsm_call_rdb_save(void *fn, void *io, void *value);
void tsm_call_aof_rewrite(void *fn, void *io, RedisModuleString *key, void *value);
size_t tsm_call_mem_usage(void *fn, const void *value);
void tsm_call_free(void *fn, void *value);
void *tsm_call_copy(void *fn, RedisModuleString *from, RedisModuleString *to, const void *value);
void tsm_call_unlink(void *fn, RedisModuleString *key, const void *value);
void tsm_call_disconnect(void *fn, RedisModuleCtx *ctx, void *bc);
void tsm_call_free_privdata(void *fn, RedisModuleCtx *ctx, void *privdata);

/* dlopen helpers (RTLD_NOW|RTLD_LOCAL). */
void *tsm_dlopen(const char *path, char *err, size_t errlen);
void *tsm_dlsym(void *handle, const char *name);
int tsm_dlclose(void *handle);

/* Completions handed from plugin threads to the loop (UnblockClient). */
int tsm_wakeup_create(void);
void tsm_wakeup_drain(void);
void tsm_completion_push(void *bc, void *privdata);
int tsm_completion_pop(void **bc, void **privdata);

/* A pthread mutex serialising plugin threads with the event loop (the GIL). */
void tsm_gil_lock(void);
void tsm_gil_unlock(void);
int tsm_gil_trylock(void);



/* RedisModuleTypeMethods, as the plugin passes it to CreateDataType. */
typedef struct TSMTypeMethods {
    uint64_t version;
    void *rdb_load, *rdb_save, *aof_rewrite, *mem_usage, *digest, *free;
    void *aux_load, *aux_save;
    int aux_save_triggers;
    void *free_effort, *unlink, *copy, *defrag;
    void *mem_usage2, *free_effort2, *unlink2, *copy2;
} TSMTypeMethods;
#endif
