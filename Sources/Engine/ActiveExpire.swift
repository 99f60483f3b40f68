// The active expiry cycle (Redis's activeExpireCycle, slow mode): each tick,
// sample keys with an expire in every database and delete the expired ones,
// repeating while more than 10% of a sample was stale, within a time budget
// of 25% of the tick so clients never wait long for it.

extension ShardEngine {
    /// Runs one cycle; `hz` is the caller's tick rate. Returns keys expired.
    @discardableResult
    public func activeExpireCycle() -> Int {
        guard activeExpireEnabled else { return 0 }
        // A replica's keys expire when its master says so (DEL in the stream),
        // except those a writable replica gave a TTL itself.
        if replicationGate.isReplica {
            expireReplicaOwnKeys()
            return 0
        }
        // Like Redis, keys do not expire while clients are paused (a replica must see the same data).
        if admin.pauseEndMs != 0 && admin.isPaused { return 0 }
        let effort = config.activeExpireEffort - 1
        let keysPerLoop = 20 + 20 / 4 * effort
        let acceptableStale = 10 - effort
        let start = ShardEngine.wallClockUs()
        let budgetUs = Int64(25 + 2 * effort) * 1_000_000 / Int64(config.hz) / 100
        updateClock()
        var expired = 0
        var iterations = 0
        var sampledTotal = 0, expiredTotal = 0
        var timedOut = false
        for db in databases where db.expiresCount > 0 {
            while db.expiresCount > 0 {
                iterations += 1
                var sampled = 0, expiredNow = 0
                var ttlSum: Int64 = 0, ttlSamples: Int64 = 0
                var n = min(keysPerLoop, db.expiresCount)
                while n > 0 && db.expiresCount > 0 {
                    if db.expireCursor >= db.expiresCount { db.expireCursor = 0 }
                    let e = db.expiringEntry(at: db.expireCursor)
                    let t = e.expireAt!
                    sampled += 1
                    if t <= now {
                        expire(db, slot: db.find(e.key))
                        expiredNow += 1
                        // The last entry moved into this position: look at it next.
                    } else {
                        ttlSum += t - now
                        ttlSamples += 1
                        db.expireCursor += 1
                    }
                    n -= 1
                }
                if ttlSamples > 0 {
                    let avg = ttlSum / ttlSamples
                    db.avgTTL = db.avgTTL == 0 ? avg : (db.avgTTL / 50) * 49 + avg / 50
                }
                expired += expiredNow
                sampledTotal += sampled
                expiredTotal += expiredNow
                if iterations & 0xF == 0 && ShardEngine.wallClockUs() - start > budgetUs {
                    timedOut = true
                    break
                }
                if sampled == 0 || expiredNow * 100 / sampled <= acceptableStale { break }
            }
            if timedOut { break }
        }
        if timedOut { stats.expiredTimeCapReachedCount += 1 }
        if expired > 0 && latencyMonitorEnabled { latencyAddSample("expire-cycle", (ShardEngine.wallClockUs() - start) / 1000) }
        let stale = sampledTotal > 0 ? Double(expiredTotal) / Double(sampledTotal) : 0
        stats.expiredStalePerc = stale * 0.05 + stats.expiredStalePerc * 0.95
        return expired
    }
}
