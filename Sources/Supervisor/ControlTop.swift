// TOP on the control socket (what `tessera-ctl top` polls every second): per
// shard, the figures an operator watches live. Each shard is asked INFO
// everything, SLOWLOG LEN and LATENCY LATEST over its link; the reply is one
// [name, value, ...] row per shard (like STATUS):
//
//   shard pid state uptime_seconds restarts keys expires used_memory
//   used_memory_rss mem_fragmentation_ratio connected_clients blocked_clients
//   ops_per_sec total_commands_processed keyspace_hits keyspace_misses
//   evicted_keys expired_keys total_connections_received slowlog_len
//   latency_event latency_event_time latency_event_ms
//
// Counters are returned raw so the client can compute rates between polls.

import Glibc
import Control

extension Supervisor {
    func controlTop(_ c: ControlConnection) {
        var infos = [String?](repeating: nil, count: shards.count)
        var slowlogs = [Int64](repeating: 0, count: shards.count)
        var latest = [(String, Int64, Int64)?](repeating: nil, count: shards.count)
        var left = shards.count
        var answered = false
        let answer: () -> Void = { [unowned self] in
            if answered { return }
            answered = true
            c.reply(.array(self.shards.map { s in self.topRow(s, infos[s.index], slowlogs[s.index], latest[s.index]) }))
        }
        if left == 0 { answer(); return }
        // A shard that does not answer within 2 s is shown as silent rather than holding the view.
        deadlines.append((nowMs() + 2000, answer))
        for s in shards {
            let i = s.index
            s.request(["INFO", "everything"]) { r in
                if !answered, case .bulk(let b?)? = r { infos[i] = String(decoding: b, as: UTF8.self) }
            }
            s.request(["SLOWLOG", "LEN"]) { r in if !answered, case .integer(let n)? = r { slowlogs[i] = n } }
            s.request(["LATENCY", "LATEST"]) { r in
                if !answered, case .array(let rows?)? = r {
                    // The most recent event across all of them.
                    for row in rows {
                        if case .array(let f?) = row, f.count >= 3, let ev = f[0].text,
                           case .integer(let t) = f[1], case .integer(let ms) = f[2], t >= (latest[i]?.1 ?? 0) {
                            latest[i] = (ev, t, ms)
                        }
                    }
                }
                left -= 1
                if left == 0 { answer() }
            }
        }
    }

    /// Once per loop turn: metrics scrapes past their deadline, expired deadlines.
    func observabilityTick(_ now: Int64) {
        metrics?.tick(now)
        guard deadlines.contains(where: { $0.at <= now }) else { return }
        let due = deadlines.filter { $0.at <= now }
        deadlines.removeAll { $0.at <= now }
        for d in due { d.fire() }
    }

    func topRow(_ s: ShardProcess, _ info: String?, _ slowlog: Int64, _ latest: (String, Int64, Int64)?) -> RESPValue {
        var f: [String: String] = [:]
        var keys: Int64 = 0, expires: Int64 = 0
        for (section, k, v) in MetricsExporter.parseInfo(info ?? "") {
            if section == "Keyspace" && k.hasPrefix("db") {
                let sub = MetricsExporter.subfields(v)
                keys += Int64(sub["keys"] ?? "") ?? 0
                expires += Int64(sub["expires"] ?? "") ?? 0
            } else {
                f[k] = v
            }
        }
        func int(_ k: String) -> RESPValue { .integer(Int64(f[k] ?? "") ?? 0) }
        let now = nowMs()
        let pairs: [(String, RESPValue)] = [
            ("shard", .integer(Int64(s.index))), ("pid", .integer(Int64(s.pid))),
            ("state", .bulkString(info == nil && s.pid > 0 && s.state != .stopping ? "silent" : s.state.rawValue)),
            ("uptime_seconds", .integer(s.pid > 0 ? (now - s.startedAtMs) / 1000 : 0)),
            ("restarts", .integer(Int64(s.restarts))),
            ("keys", .integer(keys)), ("expires", .integer(expires)),
            ("used_memory", int("used_memory")), ("used_memory_rss", int("used_memory_rss")),
            ("mem_fragmentation_ratio", .bulkString(f["mem_fragmentation_ratio"] ?? "0")),
            ("connected_clients", int("connected_clients")), ("blocked_clients", int("blocked_clients")),
            ("ops_per_sec", int("instantaneous_ops_per_sec")),
            ("total_commands_processed", int("total_commands_processed")),
            ("keyspace_hits", int("keyspace_hits")), ("keyspace_misses", int("keyspace_misses")),
            ("evicted_keys", int("evicted_keys")), ("expired_keys", int("expired_keys")),
            ("total_connections_received", int("total_connections_received")),
            ("slowlog_len", .integer(slowlog)),
            ("latency_event", .bulkString(latest?.0 ?? "")),
            ("latency_event_time", .integer(latest?.1 ?? 0)),
            ("latency_event_ms", .integer(latest?.2 ?? 0)),
        ]
        return .array(pairs.flatMap { [RESPValue.bulkString($0.0), $0.1] })
    }
}
