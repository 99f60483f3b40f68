#ifndef TESSERA_CSHIMS_H
#define TESSERA_CSHIMS_H
// Small C glue for what Swift's Glibc module does not expose (epoll, accept4)
// and for number formatting that must match Redis byte for byte (%.17g,
// long double arithmetic for INCRBYFLOAT).
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <errno.h>

static inline int ts_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
/* Starts loading the cache line at p (eviction sampling reads several
 * random entries: their misses overlap instead of queueing). */
static inline void ts_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

static inline int ts_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

/// Waits for events; writes (data, events) pairs into `out` (2 words per event).
int ts_epoll_wait(int epfd, uint64_t *out, int maxevents, int timeout_ms);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC (declared here: <sys/socket.h>
/// only declares accept4 under _GNU_SOURCE, which would make this module
/// disagree with Swift's Glibc module about shared types).
int ts_accept4(int fd, struct sockaddr *addr, socklen_t *len);

static inline int ts_errno(void) { return errno; }

/// Opens a non-blocking listening TCP socket on host:port (IPv4 or IPv6 literal).
/// Returns the fd or -errno.
int ts_listen_tcp(const char *host, int port, int backlog);

/// Formats "ip:port" of a connected socket's peer (or local side) into buf.
int ts_sockname(int fd, int peer, char *buf, size_t len);
/* Non-blocking outgoing TCP connection (replication): -errno on failure. */
int ts_connect_tcp(const char *host, int port);
/* 1 connected, 0 in progress, -errno failed. */
int ts_connect_result(int fd);

/// Seeded 64-bit hash of a byte string (wyhash-style mixing).
uint64_t ts_hash_bytes(const void *p, size_t len, uint64_t seed);

/// "%.17g" formatting, as Redis's addReplyDouble. Returns length.
int ts_format_double17(char *buf, size_t len, double v);

/// Redis's ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros removed.
/// Returns length, or 0 if the value is not finite.
int ts_format_long_double_human(char *buf, size_t len, long double v);

/// Parses a long double the way Redis's string2ld does (whole buffer, no
/// spaces, not NaN). Adds `incr` and formats the result human-friendly.
/// Returns the formatted length, -1 if `s` is not a valid float, -2 if the
/// result is NaN or infinite.
int ts_incr_long_double(const char *s, size_t slen, const char *incr, size_t ilen, char *out, size_t outlen);

/// Parses a double the way Redis's string2d does. Returns 1 on success.
int ts_parse_double(const char *s, size_t len, double *out);

/// Process CPU time in microseconds (user, system).
void ts_cpu_usage(int64_t *user_us, int64_t *sys_us);

/// CPU time in microseconds of: 0 the process, 1 the calling thread, -1 the
/// terminated children (INFO cpu).
void ts_cpu_usage_of(int who, int64_t *user_us, int64_t *sys_us);

/* Process model (supervisor and shards). prctl and fcntl's variadic forms do
 * not import into Swift. */
/* Clears FD_CLOEXEC so a spawned shard inherits `fd`. */
int ts_set_inheritable(int fd, int inheritable);
/* A connected AF_UNIX stream socket pair, both ends close-on-exec. */
int ts_socketpair(int fds[2]);
/* Unix stream sockets (abstract: Linux's abstract namespace). Negative errno on failure. */
int ts_listen_unix(const char *path, int abstract, int backlog, int perm);
int ts_connect_unix(const char *path, int abstract);
/* The uid of a unix socket's peer (SO_PEERCRED), -1 if unknown. */
int ts_peer_uid(int fd);
/* CRC16-XMODEM, Redis Cluster's key hash. */
uint16_t ts_crc16(const void *data, size_t len);
/* Forks and execs `path` with `argv` and `envp` (NULL-terminated) in the
 * child, which first gets a process group of its own (so the supervisor can
 * find and end everything a shard started), the parent-death signal SIGKILL,
 * keeps the fds in `keep` (close-on-exec cleared), resets signal dispositions
 * and unblocks all signals. Returns the child's pid (= its group) or -1. */
int ts_spawn(const char *path, char *const argv[], char *const envp[], const int *keep, int nkeep);

/* Makes the calling process the reaper of its orphaned descendants
 * (PR_SET_CHILD_SUBREAPER): a dead shard's forked children are re-parented
 * to the supervisor, which reaps them. */
int ts_set_child_subreaper(void);

/* fork() for a shard's background child (snapshot, AOF rewrite): the child
 * gets SIGKILL when the shard dies, and exits at once if the shard died
 * before that was armed. Returns as fork(). */
int ts_fork_bound_to_parent(void);

/* In such a child: whether the process that forked it is still its parent
 * (checked before a child renames its output into place). 1 in a process
 * that was not forked by ts_fork_bound_to_parent. */
int ts_forking_parent_alive(void);

/* Whether any process of process group `pgid` still exists (zombies count
 * until they are reaped). */
int ts_process_group_exists(int pgid);
/* A shard stops itself (SIGSTOP) when its supervisor is stopped, so the pair
   behaves as one process to whoever stopped it; the supervisor forwards
   SIGCONT. Returns 1 if it stopped (and was continued since). */
int ts_stop_with_parent(void);
/* 1 if process `pid` is stopped (state T in /proc/<pid>/stat). */
int ts_process_stopped(int pid);

#endif
