"""Random commands with hostile arguments never bring the server down.

A fixed-seed generator sends 30,000 commands built from every command name
COMMAND LIST reports (minus the ones that end the session or the server),
with extreme integers, malformed floats and option keywords as arguments.
Each must get a reply; at the end the server must still answer and its data
types must still be consistent with TYPE."""

import random

from conftest import encode_command

# Commands that end the session or the server, change replication, write
# files, block, or run scripts are left out: their effects are not "a reply".
UNSAFE = {b"shutdown", b"debug", b"monitor", b"client", b"quit", b"reset", b"subscribe",
          b"psubscribe", b"ssubscribe", b"hello", b"auth", b"multi", b"config", b"replicaof",
          b"slaveof", b"sync", b"psync", b"failover", b"migrate", b"save", b"bgsave",
          b"bgrewriteaof", b"wait", b"blpop", b"brpop", b"brpoplpush", b"blmove", b"blmpop",
          b"bzpopmin", b"bzpopmax", b"bzmpop", b"xread", b"xreadgroup", b"eval", b"evalsha",
          b"eval_ro", b"evalsha_ro", b"fcall", b"fcall_ro", b"function", b"script", b"cluster",
          b"readonly", b"readwrite", b"acl", b"module", b"latency", b"slowlog"}
NUMBERS = [b"0", b"1", b"-1", b"2", b"9223372036854775807", b"-9223372036854775808",
           b"18446744073709551616", b"4294967296", b"-100", b"1.5", b"inf", b"-inf", b"nan",
           b"(1", b"[a", b"+", b"-", b"", b"1e400"]
WORDS = [b"k", b"k2", b"l", b"h", b"s", b"z", b"WITHSCORES", b"LIMIT", b"BYSCORE", b"BYLEX", b"REV",
         b"COUNT", b"MATCH", b"*", b"EX", b"PX", b"EXAT", b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR",
         b"STORE", b"WEIGHTS", b"AGGREGATE", b"LEFT", b"RIGHT", b"BEFORE", b"AFTER", b"RANK",
         b"MAXLEN", b"TYPE", b"IDX", b"LEN", b"REPLACE", b"DB", b"GET", b"BY", b"ALPHA", b"DESC",
         b"KEEPTTL", b"PERSIST", b"WITHVALUES", b"x" * 70, b"\x00\xff\r\n"]


def test_random_hostile_commands_never_crash(r, raw, server):
    c = raw(timeout=10)
    c.send(encode_command("COMMAND", "LIST"))
    names = [n for n in c.read_parsed() if n.split(b"|")[0] not in UNSAFE]
    assert len(names) > 150
    rnd = random.Random(20261127)
    for i in range(30_000):
        args = names[rnd.randrange(len(names))].split(b"|")
        for _ in range(rnd.randint(0, 7)):
            args.append(rnd.choice(NUMBERS if rnd.random() < 0.4 else WORDS))
        c.send(encode_command(*args))
        reply = c.read_reply()
        assert reply[:1] in b"+-:$*%~_,#>=(|", (args, reply)
        if i % 5000 == 0:
            r.select(0)
    assert server.alive()
    assert r.ping()
    for key in r.keys("*"):
        assert r.type(key) in (b"string", b"list", b"set", b"zset", b"hash")
