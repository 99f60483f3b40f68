/* bloom: a scalable Bloom filter data type for Tessera (and Redis 7.0).
 *
 *   BF.RESERVE key error_rate capacity [EXPANSION n] [NONSCALING]
 *   BF.ADD key item              -> 1 if newly added, 0 if it may have been there
 *   BF.MADD key item [item ...]  -> array of the above
 *   BF.EXISTS key item           -> 1 if it may be there, 0 if certainly not
 *   BF.MEXISTS key item [item ...]
 *   BF.INFO key                  -> Capacity, Size, Number of filters,
 *                                   Number of items inserted, Expansion rate
 *   BF.CARD key                  -> items inserted
 *
 * A filter is a chain of sub-filters: when the last one is full, a new one
 * with `expansion` times the capacity and half the error rate is added, so
 * the overall error rate stays below the requested one. Keys are of type
 * "tessbloom" (RDB type id from that name, encoding version 0), saved to RDB
 * and rewritten to the AOF (as BF._RESTORE with the serialized filter). */
#include "tessera_module.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define BLOOM_ENCVER 0
#define DEFAULT_ERROR 0.01
#define DEFAULT_CAPACITY 100
#define DEFAULT_EXPANSION 2

typedef struct {
    uint64_t capacity;   /* items it was sized for */
    uint64_t count;      /* items added to it */
    double error;
    uint32_t hashes;     /* k */
    uint64_t bits;       /* m */
    unsigned char *bitmap;
} SubFilter;

typedef struct {
    uint32_t nfilters;
    uint32_t expansion;  /* 0: not scaling */
    uint64_t items;
    SubFilter *filters;
} Bloom;

static RedisModuleType *BloomType;

static uint64_t hash64(const char *p, size_t n, uint64_t seed) {
    /* FNV-1a followed by a 64-bit finalizer. */
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53ULL; h ^= h >> 33;
    return h;
}

static void sub_init(SubFilter *f, uint64_t capacity, double error) {
    f->capacity = capacity;
    f->count = 0;
    f->error = error;
    double bpe = -log(error) / (M_LN2 * M_LN2);
    f->bits = (uint64_t)ceil((double)capacity * bpe);
    if (f->bits < 64) f->bits = 64;
    f->bits = (f->bits + 63) & ~63ULL;
    f->hashes = (uint32_t)ceil(M_LN2 * bpe);
    if (f->hashes < 1) f->hashes = 1;
    f->bitmap = RedisModule_Calloc(f->bits / 8, 1);
}

/* 1 if every bit of the item is set. With set != 0, sets them, returning
 * whether any was clear (the item is new). */
static int sub_check(SubFilter *f, uint64_t h1, uint64_t h2, int set) {
    int isnew = 0;
    for (uint32_t i = 0; i < f->hashes; i++) {
        uint64_t bit = (h1 + i * h2) % f->bits;
        unsigned char mask = 1 << (bit & 7);
        if (!(f->bitmap[bit >> 3] & mask)) {
            if (!set) return 0;
            f->bitmap[bit >> 3] |= mask;
            isnew = 1;
        }
    }
    return set ? isnew : 1;
}

static Bloom *bloom_new(double error, uint64_t capacity, uint32_t expansion) {
    Bloom *b = RedisModule_Calloc(1, sizeof(*b));
    b->expansion = expansion;
    b->nfilters = 1;
    b->filters = RedisModule_Calloc(1, sizeof(SubFilter));
    sub_init(&b->filters[0], capacity, error);
    return b;
}

static void bloom_free(void *value) {
    Bloom *b = value;
    for (uint32_t i = 0; i < b->nfilters; i++) RedisModule_Free(b->filters[i].bitmap);
    RedisModule_Free(b->filters);
    RedisModule_Free(b);
}

static int bloom_exists(Bloom *b, const char *p, size_t n) {
    uint64_t h1 = hash64(p, n, 0), h2 = hash64(p, n, 0x9e3779b97f4a7c15ULL) | 1;
    for (uint32_t i = 0; i < b->nfilters; i++) if (sub_check(&b->filters[i], h1, h2, 0)) return 1;
    return 0;
}

/* 1 added, 0 may exist, -1 full and not scaling. */
static int bloom_add(Bloom *b, const char *p, size_t n) {
    if (bloom_exists(b, p, n)) return 0;
    SubFilter *last = &b->filters[b->nfilters - 1];
    if (last->count >= last->capacity) {
        if (b->expansion == 0) return -1;
        b->filters = RedisModule_Realloc(b->filters, sizeof(SubFilter) * (b->nfilters + 1));
        last = &b->filters[b->nfilters - 1];
        SubFilter *nf = &b->filters[b->nfilters];
        sub_init(nf, last->capacity * b->expansion, last->error * 0.5);
        b->nfilters++;
        last = nf;
    }
    uint64_t h1 = hash64(p, n, 0), h2 = hash64(p, n, 0x9e3779b97f4a7c15ULL) | 1;
    sub_check(last, h1, h2, 1);
    last->count++;
    b->items++;
    return 1;
}

static size_t bloom_bytes(const Bloom *b) {
    size_t s = sizeof(*b) + sizeof(SubFilter) * b->nfilters;
    for (uint32_t i = 0; i < b->nfilters; i++) s += b->filters[i].bits / 8;
    return s;
}

/* ---- serialization (RDB and BF._RESTORE share the field order) ---- */

static void bloom_rdb_save(RedisModuleIO *io, void *value) {
    Bloom *b = value;
    RedisModule_SaveUnsigned(io, b->nfilters);
    RedisModule_SaveUnsigned(io, b->expansion);
    RedisModule_SaveUnsigned(io, b->items);
    for (uint32_t i = 0; i < b->nfilters; i++) {
        SubFilter *f = &b->filters[i];
        RedisModule_SaveUnsigned(io, f->capacity);
        RedisModule_SaveUnsigned(io, f->count);
        RedisModule_SaveDouble(io, f->error);
        RedisModule_SaveUnsigned(io, f->hashes);
        RedisModule_SaveStringBuffer(io, (const char *)f->bitmap, f->bits / 8);
    }
}

static void *bloom_rdb_load(RedisModuleIO *io, int encver) {
    if (encver != BLOOM_ENCVER) {
        RedisModule_LogIOError(io, "warning", "bloom: cannot load encoding version %d", encver);
        return NULL;
    }
    Bloom *b = RedisModule_Calloc(1, sizeof(*b));
    b->nfilters = (uint32_t)RedisModule_LoadUnsigned(io);
    b->expansion = (uint32_t)RedisModule_LoadUnsigned(io);
    b->items = RedisModule_LoadUnsigned(io);
    if (b->nfilters == 0 || b->nfilters > 64) { RedisModule_Free(b); return NULL; }
    b->filters = RedisModule_Calloc(b->nfilters, sizeof(SubFilter));
    for (uint32_t i = 0; i < b->nfilters; i++) {
        SubFilter *f = &b->filters[i];
        f->capacity = RedisModule_LoadUnsigned(io);
        f->count = RedisModule_LoadUnsigned(io);
        f->error = RedisModule_LoadDouble(io);
        f->hashes = (uint32_t)RedisModule_LoadUnsigned(io);
        size_t len = 0;
        f->bitmap = (unsigned char *)RedisModule_LoadStringBuffer(io, &len);
        f->bits = (uint64_t)len * 8;
        if (!f->bitmap) { b->nfilters = i; bloom_free(b); return NULL; }
    }
    return b;
}

/* The serialized filter as one string (BF._RESTORE's argument). */
static RedisModuleString *bloom_dump(RedisModuleCtx *ctx, Bloom *b) {
    size_t size = 3 * 8;
    for (uint32_t i = 0; i < b->nfilters; i++) size += 4 * 8 + b->filters[i].bits / 8;
    char *buf = RedisModule_Alloc(size), *p = buf;
    uint64_t hdr[3] = {b->nfilters, b->expansion, b->items};
    memcpy(p, hdr, sizeof hdr); p += sizeof hdr;
    for (uint32_t i = 0; i < b->nfilters; i++) {
        SubFilter *f = &b->filters[i];
        uint64_t fields[4] = {f->capacity, f->count, 0, f->hashes};
        memcpy(&fields[2], &f->error, 8);
        memcpy(p, fields, sizeof fields); p += sizeof fields;
        memcpy(p, f->bitmap, f->bits / 8); p += f->bits / 8;
    }
    RedisModuleString *s = RedisModule_CreateString(ctx, buf, size);
    RedisModule_Free(buf);
    return s;
}

static Bloom *bloom_undump(const char *p, size_t len) {
    uint64_t hdr[3];
    if (len < sizeof hdr) return NULL;
    memcpy(hdr, p, sizeof hdr); p += sizeof hdr; len -= sizeof hdr;
    if (hdr[0] == 0 || hdr[0] > 64) return NULL;
    Bloom *b = RedisModule_Calloc(1, sizeof(*b));
    b->nfilters = 0;
    b->expansion = (uint32_t)hdr[1];
    b->items = hdr[2];
    b->filters = RedisModule_Calloc(hdr[0], sizeof(SubFilter));
    for (uint64_t i = 0; i < hdr[0]; i++) {
        uint64_t fields[4];
        if (len < sizeof fields) { bloom_free(b); return NULL; }
        memcpy(fields, p, sizeof fields); p += sizeof fields; len -= sizeof fields;
        SubFilter *f = &b->filters[i];
        f->capacity = fields[0]; f->count = fields[1]; memcpy(&f->error, &fields[2], 8); f->hashes = (uint32_t)fields[3];
        sub_init(f, f->capacity, f->error);
        if (len < f->bits / 8) { b->nfilters = (uint32_t)i + 1; bloom_free(b); return NULL; }
        memcpy(f->bitmap, p, f->bits / 8); p += f->bits / 8; len -= f->bits / 8;
        b->nfilters = (uint32_t)i + 1;
    }
    return b;
}

static void bloom_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    RedisModuleCtx *ctx = RedisModule_GetContextFromIO(aof);
    RedisModuleString *blob = bloom_dump(ctx, value);
    RedisModule_EmitAOF(aof, "BF._RESTORE", "ss", key, blob);
    RedisModule_FreeString(ctx, blob);
}

static size_t bloom_mem_usage(const void *value) { return bloom_bytes(value); }

static void *bloom_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    REDISMODULE_NOT_USED(from); REDISMODULE_NOT_USED(to);
    const Bloom *b = value;
    Bloom *c = RedisModule_Calloc(1, sizeof(*c));
    *c = *b;
    c->filters = RedisModule_Calloc(b->nfilters, sizeof(SubFilter));
    for (uint32_t i = 0; i < b->nfilters; i++) {
        c->filters[i] = b->filters[i];
        c->filters[i].bitmap = RedisModule_Alloc(b->filters[i].bits / 8);
        memcpy(c->filters[i].bitmap, b->filters[i].bitmap, b->filters[i].bits / 8);
    }
    return c;
}

/* ---- commands ---- */

/* Opens `key` for the command; *b is NULL when the key is empty. Replies
 * WRONGTYPE and returns NULL for another type. */
static RedisModuleKey *open_bloom(RedisModuleCtx *ctx, RedisModuleString *name, int mode, Bloom **b) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, name, mode);
    *b = NULL;
    if (!key) return NULL;
    int type = RedisModule_KeyType(key);
    if (type == REDISMODULE_KEYTYPE_EMPTY) return key;
    if (RedisModule_ModuleTypeGetType(key) != BloomType) {
        RedisModule_CloseKey(key);
        RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
        return (RedisModuleKey *)-1;
    }
    *b = RedisModule_ModuleTypeGetValue(key);
    return key;
}

static int Reserve(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return RedisModule_WrongArity(ctx);
    double error;
    long long capacity, expansion = DEFAULT_EXPANSION;
    if (RedisModule_StringToDouble(argv[2], &error) != REDISMODULE_OK || error <= 0 || error >= 1)
        return RedisModule_ReplyWithError(ctx, "ERR (0 < error rate range < 1)");
    if (RedisModule_StringToLongLong(argv[3], &capacity) != REDISMODULE_OK || capacity <= 0 || capacity > (1LL << 32))
        return RedisModule_ReplyWithError(ctx, "ERR (capacity should be larger than 0)");
    for (int i = 4; i < argc; i++) {
        const char *opt = RedisModule_StringPtrLen(argv[i], NULL);
        if (strcasecmp(opt, "NONSCALING") == 0) expansion = 0;
        else if (strcasecmp(opt, "EXPANSION") == 0 && i + 1 < argc) {
            if (RedisModule_StringToLongLong(argv[++i], &expansion) != REDISMODULE_OK || expansion < 1 || expansion > 32768)
                return RedisModule_ReplyWithError(ctx, "ERR bad expansion");
        } else return RedisModule_ReplyWithError(ctx, "ERR syntax error");
    }
    Bloom *b;
    RedisModuleKey *key = open_bloom(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &b);
    if (key == (RedisModuleKey *)-1) return REDISMODULE_OK;
    if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR item exists");
    }
    RedisModule_ModuleTypeSetValue(key, BloomType, bloom_new(error, (uint64_t)capacity, (uint32_t)expansion));
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int add_items(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int multi) {
    Bloom *b;
    RedisModuleKey *key = open_bloom(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE, &b);
    if (key == (RedisModuleKey *)-1) return REDISMODULE_OK;
    if (!b) {
        b = bloom_new(DEFAULT_ERROR, DEFAULT_CAPACITY, DEFAULT_EXPANSION);
        RedisModule_ModuleTypeSetValue(key, BloomType, b);
    }
    if (multi) RedisModule_ReplyWithArray(ctx, argc - 2);
    int changed = 0;
    for (int i = 2; i < argc; i++) {
        size_t len;
        const char *p = RedisModule_StringPtrLen(argv[i], &len);
        int r = bloom_add(b, p, len);
        if (r < 0) RedisModule_ReplyWithError(ctx, "ERR non scaling filter is full");
        else { RedisModule_ReplyWithLongLong(ctx, r); changed |= r; }
    }
    RedisModule_CloseKey(key);
    if (changed) {
        RedisModule_ReplicateVerbatim(ctx);
        RedisModule_NotifyKeyspaceEvent(ctx, REDISMODULE_NOTIFY_MODULE, multi ? "bf.madd" : "bf.add", argv[1]);
    }
    return REDISMODULE_OK;
}

static int Add(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    return add_items(ctx, argv, argc, 0);
}

static int MAdd(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return RedisModule_WrongArity(ctx);
    return add_items(ctx, argv, argc, 1);
}

static int check_items(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int multi) {
    Bloom *b;
    RedisModuleKey *key = open_bloom(ctx, argv[1], REDISMODULE_READ, &b);
    if (key == (RedisModuleKey *)-1) return REDISMODULE_OK;
    if (multi) RedisModule_ReplyWithArray(ctx, argc - 2);
    for (int i = 2; i < argc; i++) {
        size_t len;
        const char *p = RedisModule_StringPtrLen(argv[i], &len);
        RedisModule_ReplyWithLongLong(ctx, b ? bloom_exists(b, p, len) : 0);
    }
    if (key) RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

static int Exists(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    return check_items(ctx, argv, argc, 0);
}

static int MExists(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 3) return RedisModule_WrongArity(ctx);
    return check_items(ctx, argv, argc, 1);
}

static int Info(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    Bloom *b;
    RedisModuleKey *key = open_bloom(ctx, argv[1], REDISMODULE_READ, &b);
    if (key == (RedisModuleKey *)-1) return REDISMODULE_OK;
    if (!b) {
        if (key) RedisModule_CloseKey(key);
        return RedisModule_ReplyWithError(ctx, "ERR not found");
    }
    uint64_t capacity = 0;
    for (uint32_t i = 0; i < b->nfilters; i++) capacity += b->filters[i].capacity;
    RedisModule_ReplyWithArray(ctx, 10);
    RedisModule_ReplyWithSimpleString(ctx, "Capacity");
    RedisModule_ReplyWithLongLong(ctx, (long long)capacity);
    RedisModule_ReplyWithSimpleString(ctx, "Size");
    RedisModule_ReplyWithLongLong(ctx, (long long)bloom_bytes(b));
    RedisModule_ReplyWithSimpleString(ctx, "Number of filters");
    RedisModule_ReplyWithLongLong(ctx, b->nfilters);
    RedisModule_ReplyWithSimpleString(ctx, "Number of items inserted");
    RedisModule_ReplyWithLongLong(ctx, (long long)b->items);
    RedisModule_ReplyWithSimpleString(ctx, "Expansion rate");
    if (b->expansion) RedisModule_ReplyWithLongLong(ctx, b->expansion); else RedisModule_ReplyWithNull(ctx);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}

static int Card(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return RedisModule_WrongArity(ctx);
    Bloom *b;
    RedisModuleKey *key = open_bloom(ctx, argv[1], REDISMODULE_READ, &b);
    if (key == (RedisModuleKey *)-1) return REDISMODULE_OK;
    if (key) RedisModule_CloseKey(key);
    return RedisModule_ReplyWithLongLong(ctx, b ? (long long)b->items : 0);
}

/* BF._RESTORE key blob: what AOF rewrites emit. */
static int Restore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 3) return RedisModule_WrongArity(ctx);
    size_t len;
    const char *p = RedisModule_StringPtrLen(argv[2], &len);
    Bloom *b = bloom_undump(p, len);
    if (!b) return RedisModule_ReplyWithError(ctx, "ERR invalid filter data");
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_ModuleTypeSetValue(key, BloomType, b);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    REDISMODULE_NOT_USED(argv); REDISMODULE_NOT_USED(argc);
    if (RedisModule_Init(ctx, "bloom", 1, REDISMODULE_APIVER_1) == REDISMODULE_ERR) return REDISMODULE_ERR;
    RedisModuleTypeMethods tm = {
        .version = REDISMODULE_TYPE_METHOD_VERSION,
        .rdb_load = bloom_rdb_load,
        .rdb_save = bloom_rdb_save,
        .aof_rewrite = bloom_aof_rewrite,
        .mem_usage = bloom_mem_usage,
        .free = bloom_free,
        .copy = bloom_copy,
    };
    BloomType = RedisModule_CreateDataType(ctx, "tessbloom", BLOOM_ENCVER, &tm);
    if (!BloomType) return REDISMODULE_ERR;
    struct { const char *name; RedisModuleCmdFunc fn; const char *flags; } cmds[] = {
        {"bf.reserve", Reserve, "write deny-oom"},
        {"bf.add", Add, "write deny-oom"},
        {"bf.madd", MAdd, "write deny-oom"},
        {"bf.exists", Exists, "readonly fast"},
        {"bf.mexists", MExists, "readonly fast"},
        {"bf.info", Info, "readonly fast"},
        {"bf.card", Card, "readonly fast"},
        {"bf._restore", Restore, "write deny-oom"},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (RedisModule_CreateCommand(ctx, cmds[i].name, cmds[i].fn, cmds[i].flags, 1, 1, 1) == REDISMODULE_ERR)
            return REDISMODULE_ERR;
    return REDISMODULE_OK;
}
