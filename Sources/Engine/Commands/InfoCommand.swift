// INFO [section ...]: Redis 7.0's sections and field names. Figures Tessera
// does not have yet (persistence, replication, scripting) are reported with
// the values Redis shows when the feature is idle.
//
// Higher layers contribute (ShardInterface.swift): each stage's fields, and
// the host's as "runtime", replace the engine's fields of the same name;
// other fields are appended to the section the contributor names (e.g.
// "persistence"), or form their own section shown with the default sections.

import Glibc
import CJemalloc
import CShims

extension ShardEngine {
    /// INFO sections in output order, with their titles.
    static let infoSections: [(name: String, title: String)] = [
        ("server", "Server"), ("clients", "Clients"), ("memory", "Memory"), ("persistence", "Persistence"),
        ("stats", "Stats"), ("replication", "Replication"), ("cpu", "CPU"), ("modules", "Modules"),
        ("commandstats", "Commandstats"), ("errorstats", "Errorstats"), ("latencystats", "Latencystats"),
        ("cluster", "Cluster"), ("keyspace", "Keyspace"),
    ]
    static let defaultInfoSections: Set<String> = ["server", "clients", "memory", "persistence", "stats",
                                                   "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"]

    static func infoCommand(_ c: Client) {
        var wanted = Set<String>()
        var everything = false
        if c.args.count == 1 { wanted = defaultInfoSections }
        for i in 1..<c.args.count {
            let name = c.args.string(i).lowercased()
            switch name {
            case "default": wanted.formUnion(defaultInfoSections)
            case "all", "everything": everything = true
            default: wanted.insert(name)
            }
        }
        c.reply.verbatim(c.engine.infoString(sections: wanted, everything: everything))
    }

    /// The INFO text for the requested sections (all of them with `everything`).
    public func infoString(sections wanted: Set<String>, everything: Bool = false) -> String {
        // Gather the extra figures of higher layers first.
        var overrides: [String: String] = [:]
        var extraFields: [String: [(String, String)]] = [:]
        var extraSections: [(String, [(String, String)])] = []
        var contributors: [(String, [(String, String)])] = []
        if let host { contributors.append(("runtime", host.infoFields())) }
        for stage in stages.all { if let name = stage.infoSection { contributors.append((name, stage.infoFields())) } }
        contributors.sort { $0.0 < $1.0 }
        for (name, fields) in contributors {
            for (k, v) in fields { overrides[k] = v }
            if ShardEngine.infoSections.contains(where: { $0.name == name }) {
                extraFields[name] = fields
            } else {
                extraSections.append((name, fields))
            }
        }
        var out = ""
        func emit(_ title: String, _ fields: [(String, String)]) {
            if !out.isEmpty { out += "\r\n" }
            out += "# \(title)\r\n"
            for (k, v) in fields { out += "\(k):\(v)\r\n" }
        }
        for (name, title) in ShardEngine.infoSections where everything || wanted.contains(name) {
            var fields = infoFields(name)
            var known = Set<String>()
            for i in fields.indices {
                known.insert(fields[i].0)
                if let v = overrides[fields[i].0] { fields[i].1 = v }
            }
            for (k, v) in extraFields[name] ?? [] where !known.contains(k) { fields.append((k, v)) }
            emit(title, fields)
        }
        if !extraSections.isEmpty && ShardEngine.knownInfoFields == nil {
            ShardEngine.knownInfoFields = Set(ShardEngine.infoSections.flatMap { infoFields($0.name).map { $0.0 } })
        }
        for (name, fields) in extraSections
        where everything || wanted.contains(name) || wanted.isSuperset(of: ShardEngine.defaultInfoSections) {
            // Fields that replaced engine figures are not repeated here.
            let own = fields.filter { !ShardEngine.knownInfoFields!.contains($0.0) }
            if !own.isEmpty { emit(name.prefix(1).uppercased() + name.dropFirst(), own) }
        }
        return out
    }

    nonisolated(unsafe) static var knownInfoFields: Set<String>? = nil

    func infoFields(_ section: String) -> [(String, String)] {
        switch section {
        case "server": return serverInfo()
        case "clients": return clientsInfo()
        case "memory": return memoryInfo()
        case "persistence": return persistenceInfo()
        case "stats": return statsInfo()
        case "replication": return replicationInfo()
        case "cpu": return cpuInfo()
        case "commandstats": return commandStatsInfo()
        case "errorstats": return stats.errors.keys.sorted().map { ("errorstat_\($0)", "count=\(stats.errors[$0]!)") }
        case "latencystats": return latencyStatsInfo()
        case "cluster": return [("cluster_enabled", cluster?.clusterEnabled == true ? "1" : "0")]
        case "keyspace":
            return databases.filter { $0.count > 0 }.map {
                ("db\($0.index)", "keys=\($0.count),expires=\($0.expiresCount),avg_ttl=\($0.avgTTL)")
            }
        default: return []  // modules, latencystats: nothing yet
        }
    }

    private func serverInfo() -> [(String, String)] {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let nowUs = ShardEngine.wallClockUs()
        let uptime = (nowUs / 1000 - startTime) / 1000
        return [
            ("redis_version", ShardEngine.redisVersion), ("redis_git_sha1", "00000000"), ("redis_git_dirty", "0"),
            ("redis_build_id", "0"), ("redis_mode", "standalone"),
            ("os", "\(field(u.sysname)) \(field(u.release)) \(field(u.machine))"),
            ("arch_bits", String(MemoryLayout<Int>.size * 8)), ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"), ("atomicvar_api", "c11-builtin"), ("gcc_version", "0.0.0"),
            ("process_id", String(getpid())), ("process_supervised", "no"), ("run_id", runID),
            ("tcp_port", String(port)), ("server_time_usec", String(nowUs)),
            ("uptime_in_seconds", String(uptime)), ("uptime_in_days", String(uptime / 86400)),
            ("hz", String(config.hz)), ("configured_hz", config.get("hz") ?? "10"), ("lru_clock", String(lruClock)),
            ("executable", executableAbsolutePath), ("config_file", configFile ?? ""), ("io_threads_active", "0"),
            ("tessera_version", ShardEngine.tesseraVersion),
        ]
    }

    var executableAbsolutePath: String {
        if executablePath.hasPrefix("/") { return executablePath }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        return n > 0 ? String(cString: buf) : executablePath
    }

    private func clientsInfo() -> [(String, String)] {
        [
            ("connected_clients", String(clients.count)), ("cluster_connections", "0"),
            ("maxclients", String(config.maxClients)),
            ("client_recent_max_input_buffer", "0"), ("client_recent_max_output_buffer", "0"),
            ("blocked_clients", String(blockedClientCount + admin.postponedClients)), ("tracking_clients", "0"),
            ("clients_in_timeout_table", String(blockedClientsWithTimeout)),
        ]
    }

    /// Memory of normal clients as Redis's getClientMemoryUsage counts it: the
    /// query buffer, the reply buffer and the client's own structures.
    var clientBuffersMemory: Int {
        var n = 0
        for c in clients.values {
            n += c.queryBufferCapacity + c.reply.out.capacity
                + malloc_usable_size(Unmanaged.passUnretained(c).toOpaque())
                + malloc_usable_size(Unmanaged.passUnretained(c.reply).toOpaque())
        }
        return n
    }

    private func memoryInfo() -> [(String, String)] {
        let f = memoryFigures()
        let a = f.allocator
        let used = f.used, peak = f.peak, rss = f.rss
        let total = MemoryStats.totalSystemMemory()
        let maxmem = Int(config.maxmemory)
        func ratio(_ x: Int, _ y: Int) -> String { formatFixed(y > 0 ? Double(x) / Double(y) : 0, 2) }
        func perc(_ x: Int, _ y: Int) -> String { formatFixed(y > 0 ? Double(x) * 100 / Double(y) : 0, 2) + "%" }
        let h = MemoryStats.human
        return [
            ("used_memory", String(used)), ("used_memory_human", h(used)),
            ("used_memory_rss", String(rss)), ("used_memory_rss_human", h(rss)),
            ("used_memory_peak", String(peak)), ("used_memory_peak_human", h(peak)),
            ("used_memory_peak_perc", perc(used, peak)),
            ("used_memory_overhead", String(f.overhead)), ("used_memory_startup", String(f.startup)),
            ("used_memory_dataset", String(f.dataset)), ("used_memory_dataset_perc", perc(f.dataset, f.net)),
            ("allocator_allocated", String(a.allocated)), ("allocator_active", String(a.active)),
            ("allocator_resident", String(a.resident)),
            ("total_system_memory", String(total)), ("total_system_memory_human", h(total)),
            ("used_memory_lua", "0"), ("used_memory_vm_eval", "0"), ("used_memory_lua_human", "0B"),
            ("used_memory_scripts_eval", "0"), ("number_of_cached_scripts", "0"), ("number_of_functions", "0"),
            ("number_of_libraries", "0"), ("used_memory_vm_functions", "0"), ("used_memory_vm_total", "0"),
            ("used_memory_vm_total_human", "0B"), ("used_memory_functions", "0"), ("used_memory_scripts", "0"),
            ("used_memory_scripts_human", "0B"),
            ("maxmemory", String(maxmem)), ("maxmemory_human", h(maxmem)), ("maxmemory_policy", config.maxmemoryPolicy),
            ("allocator_frag_ratio", ratio(a.active, a.allocated)), ("allocator_frag_bytes", String(a.active - a.allocated)),
            ("allocator_rss_ratio", ratio(a.resident, a.active)), ("allocator_rss_bytes", String(a.resident - a.active)),
            ("rss_overhead_ratio", ratio(rss, a.resident)), ("rss_overhead_bytes", String(rss - a.resident)),
            ("mem_fragmentation_ratio", ratio(rss, used)), ("mem_fragmentation_bytes", String(rss - used)),
            ("mem_not_counted_for_evict", String(memoryNotCountedForEvict)), ("mem_replication_backlog", "0"),
            ("mem_total_replication_buffers", "0"), ("mem_clients_slaves", "0"),
            ("mem_clients_normal", String(f.clientsNormal)), ("mem_cluster_links", "0"), ("mem_aof_buffer", "0"),
            ("mem_allocator", "jemalloc-" + ShardEngine.jemallocVersion), ("active_defrag_running", "0"),
            ("lazyfree_pending_objects", String(lazyFree.pending)), ("lazyfreed_objects", String(lazyFree.freed)),
        ]
    }

    /// "5.3.0" from jemalloc's version string.
    static let jemallocVersion: String = {
        var p: UnsafePointer<CChar>? = nil
        var len = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &p, &len, nil, 0) == 0, let s = p else { return "unknown" }
        return String(String(cString: s).prefix { $0 != "-" })
    }()

    private func persistenceInfo() -> [(String, String)] {
        [
            ("loading", "0"), ("async_loading", "0"), ("current_cow_peak", "0"), ("current_cow_size", "0"),
            ("current_cow_size_age", "0"), ("current_fork_perc", "0.00"), ("current_save_keys_processed", "0"),
            ("current_save_keys_total", "0"), ("rdb_changes_since_last_save", String(dirty)),
            ("rdb_bgsave_in_progress", "0"), ("rdb_last_save_time", String(lastSaveTime)),
            ("rdb_last_bgsave_status", "ok"), ("rdb_last_bgsave_time_sec", "-1"), ("rdb_current_bgsave_time_sec", "-1"),
            ("rdb_saves", "0"), ("rdb_last_cow_size", "0"), ("rdb_last_load_keys_expired", "0"),
            ("rdb_last_load_keys_loaded", "0"), ("aof_enabled", "0"), ("aof_rewrite_in_progress", "0"),
            ("aof_rewrite_scheduled", "0"), ("aof_last_rewrite_time_sec", "-1"), ("aof_current_rewrite_time_sec", "-1"),
            ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", "0"), ("aof_rewrites_consecutive_failures", "0"),
            ("aof_last_write_status", "ok"), ("aof_last_cow_size", "0"), ("module_fork_in_progress", "0"),
            ("module_fork_last_cow_size", "0"),
        ]
    }

    private func statsInfo() -> [(String, String)] {
        let s = stats
        return [
            ("total_connections_received", String(s.totalConnectionsReceived)),
            ("total_commands_processed", String(s.totalCommandsProcessed)),
            ("instantaneous_ops_per_sec", String(s.instantaneousOpsPerSec)),
            ("total_net_input_bytes", String(s.netInputBytes)), ("total_net_output_bytes", String(s.netOutputBytes)),
            ("total_net_repl_input_bytes", String(s.netReplInputBytes)), ("total_net_repl_output_bytes", String(s.netReplOutputBytes)),
            ("instantaneous_input_kbps", formatFixed(s.instantaneousInputKbps, 2)),
            ("instantaneous_output_kbps", formatFixed(s.instantaneousOutputKbps, 2)),
            ("instantaneous_input_repl_kbps", formatFixed(s.instantaneousReplInputKbps, 2)),
            ("instantaneous_output_repl_kbps", formatFixed(s.instantaneousReplOutputKbps, 2)),
            ("rejected_connections", String(s.rejectedConnections)),
            ("sync_full", String(s.syncFull)), ("sync_partial_ok", String(s.syncPartialOk)), ("sync_partial_err", String(s.syncPartialErr)),
            ("expired_keys", String(s.expiredKeys)), ("expired_stale_perc", formatFixed(s.expiredStalePerc * 100, 2)),
            ("expired_time_cap_reached_count", String(s.expiredTimeCapReachedCount)),
            ("expire_cycle_cpu_milliseconds", String(s.expireCycleCpuMilliseconds)),
            ("evicted_keys", String(s.evictedKeys)), ("evicted_clients", String(s.evictedClients)),
            ("total_eviction_exceeded_time", String(evictionExceededTimes.total)),
            ("current_eviction_exceeded_time", String(evictionExceededTimes.current)),
            ("keyspace_hits", String(s.keyspaceHits)), ("keyspace_misses", String(s.keyspaceMisses)),
            ("pubsub_channels", String(pubsubChannelCount)), ("pubsub_patterns", String(pubsubPatternCount)),
            ("pubsubshard_channels", String(pubsubShardChannelCount)),
            ("latest_fork_usec", String(s.latestForkUsec)), ("total_forks", String(s.totalForks)),
            ("migrate_cached_sockets", "0"), ("slave_expires_tracked_keys", "0"),
            ("active_defrag_hits", "0"), ("active_defrag_misses", "0"), ("active_defrag_key_hits", "0"),
            ("active_defrag_key_misses", "0"), ("total_active_defrag_time", "0"), ("current_active_defrag_time", "0"),
            ("tracking_total_keys", "0"), ("tracking_total_items", "0"), ("tracking_total_prefixes", "0"),
            ("unexpected_error_replies", String(s.unexpectedErrorReplies)),
            ("total_error_replies", String(s.totalErrorReplies)), ("dump_payload_sanitizations", "0"),
            ("total_reads_processed", "0"), ("total_writes_processed", "0"),
            ("io_threaded_reads_processed", "0"), ("io_threaded_writes_processed", "0"),
            // Redis 7.2's counters (Tessera counts them; Redis 7.0 has no such fields).
            ("client_query_buffer_limit_disconnections", String(s.queryBufferLimitDisconnections)),
            ("client_output_buffer_limit_disconnections", String(s.outputBufferLimitDisconnections)),
            ("reply_buffer_shrinks", "0"), ("reply_buffer_expands", "0"),
            // Tessera's own.
            ("tessera_forwarded_commands", String(s.forwardedCommands)),
        ]
    }

    private func replicationInfo() -> [(String, String)] {
        if let r = replication { return r.replicationInfo() }
        return [
            ("role", "master"), ("connected_slaves", "0"), ("master_failover_state", "no-failover"),
            ("master_replid", admin.replid), ("master_replid2", admin.replid2), ("master_repl_offset", "0"),
            ("second_repl_offset", "-1"), ("repl_backlog_active", "0"),
            ("repl_backlog_size", config.get("repl-backlog-size") ?? "1048576"),
            ("repl_backlog_first_byte_offset", "0"), ("repl_backlog_histlen", "0"),
        ]
    }

    private func cpuInfo() -> [(String, String)] {
        var user: Int64 = 0, sys: Int64 = 0
        ts_cpu_usage(&user, &sys)
        func seconds(_ us: Int64) -> String {
            let frac = String(us % 1_000_000)
            return "\(us / 1_000_000)." + String(repeating: "0", count: 6 - frac.count) + frac
        }
        var cu: Int64 = 0, cs: Int64 = 0, tu: Int64 = 0, tsys: Int64 = 0
        ts_cpu_usage_of(-1, &cu, &cs)
        // The engine runs on the calling (main) thread.
        ts_cpu_usage_of(1, &tu, &tsys)
        return [
            ("used_cpu_sys", seconds(sys)), ("used_cpu_user", seconds(user)),
            ("used_cpu_sys_children", seconds(cs)), ("used_cpu_user_children", seconds(cu)),
            ("used_cpu_sys_main_thread", seconds(tsys)), ("used_cpu_user_main_thread", seconds(tu)),
        ]
    }

    private func commandStatsInfo() -> [(String, String)] {
        var out: [(String, String)] = []
        func add(_ c: Command) {
            if c.calls == 0 && c.failedCalls == 0 && c.rejectedCalls == 0 { return }
            let per = c.calls > 0 ? Double(c.microseconds) / Double(c.calls) : 0
            out.append(("cmdstat_\(c.fullName)",
                        "calls=\(c.calls),usec=\(c.microseconds),usec_per_call=\(formatFixed(per, 2)),"
                        + "rejected_calls=\(c.rejectedCalls),failed_calls=\(c.failedCalls)"))
        }
        for c in commands.all {
            add(c)
            for s in c.subcommands { add(s) }
        }
        return out
    }
}
