/* What the Swift cell plugin needs from C: the API types (from our header;
 * its function-pointer globals are not used from Swift), typedefs for the
 * function pointers it fetches with GetApi, and wrappers for the variadic
 * functions Swift cannot call directly. */
#ifndef CELL_SHIM_H
#define CELL_SHIM_H
#include "tessera_module.h"

typedef int (*cell_GetApi)(const char *name, void *target);
typedef int (*cell_SetModuleAttribsFn)(RedisModuleCtx *ctx, const char *name, int ver, int apiver);
typedef int (*cell_IsModuleNameBusyFn)(const char *name);
typedef int (*cell_CreateCommandFn)(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn, const char *flags,
                                    int first, int last, int step);
typedef int (*cell_CtxFn)(RedisModuleCtx *ctx);
typedef int (*cell_ReplyWithErrorFn)(RedisModuleCtx *ctx, const char *err);
typedef int (*cell_ReplyWithLongLongFn)(RedisModuleCtx *ctx, long long v);
typedef int (*cell_ReplyWithArrayFn)(RedisModuleCtx *ctx, long len);
typedef const char *(*cell_StringPtrLenFn)(const RedisModuleString *s, size_t *len);
typedef int (*cell_StringToLongLongFn)(const RedisModuleString *s, long long *v);
typedef RedisModuleKey *(*cell_OpenKeyFn)(RedisModuleCtx *ctx, RedisModuleString *name, int mode);
typedef void (*cell_CloseKeyFn)(RedisModuleKey *key);
typedef int (*cell_KeyTypeFn)(RedisModuleKey *key);
typedef char *(*cell_StringDMAFn)(RedisModuleKey *key, size_t *len, int mode);
typedef int (*cell_StringSetFn)(RedisModuleKey *key, RedisModuleString *s);
typedef int (*cell_SetExpireFn)(RedisModuleKey *key, mstime_t expire);
typedef RedisModuleString *(*cell_CreateStringFn)(RedisModuleCtx *ctx, const char *ptr, size_t len);
typedef void (*cell_FreeStringFn)(RedisModuleCtx *ctx, RedisModuleString *s);

/* The context's first field is the GetApi function. */
static inline cell_GetApi cell_getapi(RedisModuleCtx *ctx) { return (cell_GetApi)((void **)ctx)[0]; }

/* RedisModule_Replicate(ctx, "SET", "ssclc"... ): SET key value PX ms. */
static inline int cell_replicate_set_px(void *replicate, RedisModuleCtx *ctx, RedisModuleString *key,
                                        RedisModuleString *value, long long ms) {
    int (*fn)(RedisModuleCtx *, const char *, const char *, ...) =
        (int (*)(RedisModuleCtx *, const char *, const char *, ...))replicate;
    return fn(ctx, "SET", "sscl", key, value, "PX", ms);
}
#endif
