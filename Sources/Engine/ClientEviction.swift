// Client eviction (Redis 7.0's maxmemory-clients): when the memory held by
// all normal and Pub/Sub clients together (query buffers, reply buffers,
// queued transactions: what CLIENT LIST calls tot-mem) exceeds the limit, the
// biggest clients are disconnected until the total fits, each counted in
// INFO stats evicted_clients. CLIENT NO-EVICT ON exempts a client.
//
// The limit is bytes, or a percentage of maxmemory ("5%"; 0 if maxmemory is
// 0). The check runs in the cron and before commands, at most once per
// millisecond of the server clock, since it walks every client.

import RESP

extension Client {
    /// Bytes this client holds, as CLIENT LIST's tot-mem counts them.
    public var memoryUsage: Int {
        var multiMem = 0
        for q in multiQueue { multiMem += q.bytes.count + q.spans.count * MemoryLayout<ArgSpan>.stride }
        let pending = replyBufferSize()
        return queryBufferCapacity + reply.out.capacity + multiMem + 1024 + max(0, pending - 16 * 1024)
    }
}

extension ShardEngine {
    /// maxmemory-clients in bytes (0: no client eviction).
    public var maxmemoryClientsLimit: Int {
        let s = config.maxmemoryClientsSetting
        if s.hasSuffix("%") {
            guard let pct = Int(s.dropLast()) else { return 0 }
            return Int(config.maxmemory) * pct / 100
        }
        return Int(s) ?? 0
    }

    /// Before a command: evicts clients if needed. True if `c` itself was evicted
    /// (the command must not run; Redis's processCommand does the same).
    func evictClientsBeforeCommand(_ c: Client) -> Bool {
        if now == eviction.lastClientEvictionCheckMs { return false }
        evictClientsIfNeeded()
        return c.closeASAP
    }

    /// Disconnects the biggest evictable clients while their total memory exceeds maxmemory-clients.
    public func evictClientsIfNeeded() {
        guard config.maxmemoryClientsEnabled else { return }
        eviction.lastClientEvictionCheckMs = now
        let limit = maxmemoryClientsLimit
        if limit <= 0 { return }
        var total = 0
        var candidates: [(mem: Int, client: Client)] = []
        for c in clients.values where !c.closeASAP {
            let m = c.memoryUsage
            total += m
            if !c.noEvict { candidates.append((m, c)) }
        }
        if total <= limit { return }
        candidates.sort { $0.mem > $1.mem }
        for (m, c) in candidates {
            if total <= limit { break }
            logger.notice("Evicting client: id=\(c.id) addr=\(c.addr) name=\(c.displayName) tot-mem=\(m)")
            closeClientAsap(c)
            stats.evictedClients += 1
            total -= m
        }
    }
}
