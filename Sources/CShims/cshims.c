#define _GNU_SOURCE
#include "cshims.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <ctype.h>
#include <netdb.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <poll.h>
#include <netinet/tcp.h>

int ts_epoll_wait(int epfd, uint64_t *out, int maxevents, int timeout_ms) {
    struct epoll_event evs[256];
    if (maxevents > 256) maxevents = 256;
    int n = epoll_wait(epfd, evs, maxevents, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[2 * i] = evs[i].data.u64;
        out[2 * i + 1] = evs[i].events;
    }
    return n;
}

int ts_accept4(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int ts_listen_tcp(const char *host, int port, int backlog) {
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || res == NULL) return -EINVAL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { int e = errno; freeaddrinfo(res); return -e; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); freeaddrinfo(res); return -e;
    }
    freeaddrinfo(res);
    return fd;
}

/* Starts a non-blocking TCP connection to host:port (a name or an address).
   Returns the socket, or -errno (-EINVAL when the name does not resolve);
   ts_connect_result tells when the connection is made. */
int ts_connect_tcp(const char *host, int port) {
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0 || res == NULL) return -EINVAL;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { int e = errno; freeaddrinfo(res); return -e; }
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
        int e = errno; close(fd); freeaddrinfo(res); return -e;
    }
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* 1: connected, 0: still in progress, -errno: failed. Never blocks. */
int ts_connect_result(int fd) {
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n = poll(&p, 1, 0);
    if (n == 0) return 0;
    if (n < 0) return errno == EINTR ? 0 : -errno;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
    return err == 0 ? 1 : -err;
}

int ts_sockname(int fd, int peer, char *buf, size_t len) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&sa, &salen)
                  : getsockname(fd, (struct sockaddr *)&sa, &salen);
    if (rc < 0) return snprintf(buf, len, "?:0");
    char ip[INET6_ADDRSTRLEN];
    if (sa.ss_family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        return snprintf(buf, len, "%s:%d", ip, ntohs(s->sin_port));
    } else if (sa.ss_family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        return snprintf(buf, len, "%s:%d", ip, ntohs(s->sin6_port));
    }
    return snprintf(buf, len, "/unixsocket:0");
}

static inline uint64_t ts_mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
static inline uint64_t ts_r8(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t ts_r4(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

uint64_t ts_hash_bytes(const void *key, size_t len, uint64_t seed) {
    static const uint64_t s0 = 0xa0761d6478bd642full, s1 = 0xe7037ed1a0b428dbull,
                          s2 = 0x8ebc6af09c88c6e3ull, s3 = 0x589965cc75374cc3ull;
    const uint8_t *p = (const uint8_t *)key;
    uint64_t a, b;
    seed ^= ts_mix(seed ^ s0, s1);
    if (len <= 16) {
        if (len >= 4) {
            a = (ts_r4(p) << 32) | ts_r4(p + ((len >> 3) << 2));
            b = (ts_r4(p + len - 4) << 32) | ts_r4(p + len - 4 - ((len >> 3) << 2));
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t see1 = seed, see2 = seed;
            do {
                seed = ts_mix(ts_r8(p) ^ s1, ts_r8(p + 8) ^ seed);
                see1 = ts_mix(ts_r8(p + 16) ^ s2, ts_r8(p + 24) ^ see1);
                see2 = ts_mix(ts_r8(p + 32) ^ s3, ts_r8(p + 40) ^ see2);
                p += 48; i -= 48;
            } while (i > 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = ts_mix(ts_r8(p) ^ s1, ts_r8(p + 8) ^ seed);
            i -= 16; p += 16;
        }
        a = ts_r8(p + i - 16);
        b = ts_r8(p + i - 8);
    }
    a ^= s1; b ^= seed;
    __uint128_t r = (__uint128_t)a * b;
    a = (uint64_t)r; b = (uint64_t)(r >> 64);
    return ts_mix(a ^ s0 ^ len, b ^ s1);
}

int ts_format_double17(char *buf, size_t len, double v) {
    return snprintf(buf, len, "%.17g", v);
}

int ts_format_long_double_human(char *buf, size_t len, long double v) {
    if (isnan(v) || isinf(v)) return 0;
    int l = snprintf(buf, len, "%.17Lf", v);
    if (l < 0 || (size_t)l >= len) return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    buf[l] = '\0';
    return l;
}

static int ts_string2ld(const char *s, size_t slen, long double *dp) {
    char buf[5120];
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    if (isspace((unsigned char)buf[0])) return 0;
    char *eptr;
    errno = 0;
    long double value = strtold(buf, &eptr);
    if (eptr != buf + slen || errno == ERANGE || isnan(value)) return 0;  /* a NUL inside is invalid too */
    *dp = value;
    return 1;
}

int ts_incr_long_double(const char *s, size_t slen, const char *incr, size_t ilen, char *out, size_t outlen) {
    long double a, b;
    if (!ts_string2ld(s, slen, &a) || !ts_string2ld(incr, ilen, &b)) return -1;
    long double r = a + b;
    if (isnan(r) || isinf(r)) return -2;
    int l = ts_format_long_double_human(out, outlen, r);
    return l > 0 ? l : -2;
}

int ts_parse_double(const char *s, size_t slen, double *out) {
    char buf[5120];
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    if (isspace((unsigned char)buf[0])) return 0;
    char *eptr;
    errno = 0;
    double v = strtod(buf, &eptr);
    if (eptr != buf + slen || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) || isnan(v))
        return 0;
    *out = v;
    return 1;
}

void ts_cpu_usage(int64_t *user_us, int64_t *sys_us) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    *sys_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

void ts_cpu_usage_of(int who, int64_t *user_us, int64_t *sys_us) {
    struct rusage ru;
    int w = who == 1 ? RUSAGE_THREAD : (who == -1 ? RUSAGE_CHILDREN : RUSAGE_SELF);
    if (getrusage(w, &ru) != 0) { *user_us = 0; *sys_us = 0; return; }
    *user_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    *sys_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>

int ts_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

static pid_t ts_forked_by = 0;

int ts_fork_bound_to_parent(void) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) _exit(1);
        ts_forked_by = parent;
    }
    return pid;
}

int ts_forking_parent_alive(void) { return ts_forked_by == 0 || getppid() == ts_forked_by; }

int ts_process_stopped(int pid) {
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    /* "pid (comm) S ...": the state follows the last ')'. */
    char *p = strrchr(buf, ')');
    return p != NULL && p[1] != 0 && (p[2] == 'T' || p[2] == 't');
}

int ts_stop_with_parent(void) {
    if (!ts_process_stopped((int)getppid())) return 0;
    raise(SIGSTOP);
    return 1;
}

int ts_process_group_exists(int pgid) {
    if (pgid <= 0) return 0;
    return kill(-pgid, 0) == 0 || errno == EPERM;
}

int ts_set_inheritable(int fd, int inheritable) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    flags = inheritable ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
    return fcntl(fd, F_SETFD, flags);
}

int ts_socketpair(int fds[2]) { return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); }

int ts_spawn(const char *path, char *const argv[], char *const envp[], const int *keep, int nkeep) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid > 0) {
        setpgid(pid, pid);   /* also here: no window in which the parent sees the old group */
        return pid;
    }
    if (pid < 0) return pid;
    /* Child: only async-signal-safe calls until exec. The death signal
     * survives execve; the getppid check closes the race with a parent that
     * died before it was armed. */
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent) _exit(127);
    for (int i = 0; i < nkeep; i++) ts_set_inheritable(keep[i], 1);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execve(path, argv, envp);
    _exit(127);
}

/* Unix stream sockets: the `unixsocket` listener and the internal links
 * between shards. `abstract` puts the name in Linux's abstract namespace (no
 * file to clean up; the supervisor owns it for the service's lifetime). */
static socklen_t ts_unix_address(struct sockaddr_un *sa, const char *path, int abstract) {
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n > sizeof(sa->sun_path) - 2) n = sizeof(sa->sun_path) - 2;
    if (abstract) {
        memcpy(sa->sun_path + 1, path, n);
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    }
    memcpy(sa->sun_path, path, n);
    return (socklen_t)sizeof(*sa);
}

int ts_listen_unix(const char *path, int abstract, int backlog, int perm) {
    struct sockaddr_un sa;
    socklen_t len = ts_unix_address(&sa, path, abstract);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (!abstract) unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); return -e;
    }
    if (!abstract && perm > 0) chmod(path, (mode_t)perm);
    return fd;
}

int ts_connect_unix(const char *path, int abstract) {
    struct sockaddr_un sa;
    socklen_t len = ts_unix_address(&sa, path, abstract);
    /* Non-blocking: a unix connect either completes at once or fails with
     * EAGAIN (the peer's backlog is full); the caller's loop must never wait. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&sa, len) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int ts_peer_uid(int fd) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return -1;
    return (int)cred.uid;
}

/* CRC16-XMODEM (polynomial 0x1021), Redis Cluster's key hash: table-driven,
 * on every command's keys when the keyspace spans shards. */
static uint16_t ts_crc16_table[256];
static void ts_crc16_init(void) __attribute__((constructor));
static void ts_crc16_init(void) {
    for (int b = 0; b < 256; b++) {
        uint16_t crc = (uint16_t)(b << 8);
        for (int i = 0; i < 8; i++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        ts_crc16_table[b] = crc;
    }
}

uint16_t ts_crc16(const void *data, size_t len) {
    const uint8_t *p = data;
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) crc = (uint16_t)((crc << 8) ^ ts_crc16_table[((crc >> 8) ^ p[i]) & 0xff]);
    return crc;
}
