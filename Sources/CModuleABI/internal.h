/* Declarations private to the C half of the plugin ABI. */
#ifndef TSM_INTERNAL_H
#define TSM_INTERNAL_H
#include "include/tsm_abi.h"
#include <stdarg.h>

/* Implemented in Swift (PluginHost), called from the variadic C functions. */
RedisModuleCallReply *RMX_CallArgv(RedisModuleCtx *ctx, const char *cmd, RedisModuleString **argv, int argc, int flags);
int RMX_ReplicateArgv(RedisModuleCtx *ctx, const char *cmd, RedisModuleString **argv, int argc);
void RMX_EmitAOFArgv(void *io, const char *cmd, RedisModuleString **argv, int argc);
int RMX_HashSetOne(void *key, int flags, const char *field, size_t flen, RedisModuleString *value, int del);
int RMX_HashGetOne(void *key, int flags, const char *field, size_t flen, RedisModuleString **out, int *exists);
void RMX_LogMessage(RedisModuleCtx *ctx, const char *level, const char *msg);
void RMX_LogIOMessage(void *io, const char *level, const char *msg);
void RMX_CloseKey(void *key);

/* Builds an argument vector from a Call/Replicate/EmitAOF format; the
 * strings are new (free them with tsm_argv_free). NULL on a bad format. */
RedisModuleString **tsm_argv_build(const char *fmt, va_list ap, int *argc, int *flags);
void tsm_argv_free(RedisModuleString **argv, int argc);
int tsm_automem_contains(RedisModuleCtx *ctx, void *ptr);
#endif
