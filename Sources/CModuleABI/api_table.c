/* The GetApi table: API names -> our functions. Kept apart from the
 * implementations: it declares them all alike (only addresses are taken). */
#include <string.h>
#include <stddef.h>

/* ---- the table ---- */

#define C_API(n) extern void RM_##n(void);
#define SW_API(n) extern void RMX_##n(void);
#include "api_list.h"
#undef C_API
#undef SW_API

typedef struct { const char *name; void *fn; } TSMApiEntry;

static const TSMApiEntry api_table[] = {
#define C_API(n) { #n, (void *)RM_##n },
#define SW_API(n) { #n, (void *)RMX_##n },
#include "api_list.h"
#undef C_API
#undef SW_API
};

#define API_COUNT ((int)(sizeof(api_table) / sizeof(api_table[0])))

int tsm_api_count(void) { return API_COUNT; }
const char *tsm_api_name(int i) { return i >= 0 && i < API_COUNT ? api_table[i].name : NULL; }

void *tsm_api_lookup(const char *name) {
    if (strncmp(name, "RedisModule_", 12) == 0) name += 12;
    else if (strncmp(name, "ValkeyModule_", 13) == 0) name += 13;
    else return NULL;
    for (int i = 0; i < API_COUNT; i++)
        if (strcmp(api_table[i].name, name) == 0) return api_table[i].fn;
    return NULL;
}

