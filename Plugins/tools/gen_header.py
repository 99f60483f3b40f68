#!/usr/bin/env python3
"""Regenerates the function-pointer section of Plugins/include/tessera_module.h.

The names and signatures of the API functions are ABI facts: this reads them
from a Redis 7.0 redismodule.h (path as first argument) for the functions
Tessera implements (Sources/CModuleABI/api_list.h) and prints them as
TM_FUNC(return type, name, (parameters)) lines for our header."""
import re, sys

redis_h = open(sys.argv[1]).read()
ours = re.findall(r"(?:C|SW)_API\((\w+)\)", open(sys.argv[2]).read())
decl = re.compile(r"REDISMODULE_API[ \t]+([^#;\n(]+?)[ \t]*\(\*RedisModule_(\w+)\)\s*(\([^;]*?\))\s*REDISMODULE_ATTR")
sigs = {m.group(2): (" ".join(m.group(1).split()), " ".join(m.group(3).split())) for m in decl.finditer(redis_h)}
for name in ours:
    ret, params = sigs[name]
    print(f"TM_FUNC({ret}, {name}, {params})")
