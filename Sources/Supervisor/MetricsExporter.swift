// Turns what the shards told the supervisor (INFO everything, SLOWLOG,
// LATENCY LATEST, CONFIG GET databases) into Prometheus metrics, built with
// swift-prometheus's registry (one fresh registry per scrape: every value is
// a snapshot of the shard's own counters, not something we accumulate).
//
// Names and types follow oliver006/redis_exporter (1.45, Debian's
// prometheus-redis-exporter), so its dashboards and alerts work unchanged,
// with one difference: every series carries a `shard` label. Tessera's own
// series are named tessera_*.

import Prometheus

/// What one scrape learned about one shard.
public struct ShardSample {
    public var index: Int
    public var pid: Int32
    public var state: String
    public var restarts: Int
    public var uptimeSeconds: Int64
    /// INFO everything; nil when the shard did not answer (down, or too slow).
    public var info: String?
    public var slowlogLength: Int64?
    /// SLOWLOG GET 1: id and duration (µs) of the newest entry.
    public var slowlogLast: (id: Int64, micros: Int64)?
    /// LATENCY LATEST rows: event, unix time of the latest spike, latest ms, max ms.
    public var latencyLatest: [(event: String, time: Int64, latestMs: Int64, maxMs: Int64)] = []
    /// CONFIG GET databases.
    public var databases: Int?

    public init(index: Int, pid: Int32, state: String, restarts: Int, uptimeSeconds: Int64) {
        self.index = index
        self.pid = pid
        self.state = state
        self.restarts = restarts
        self.uptimeSeconds = uptimeSeconds
    }
}

public enum MetricsExporter {
    /// INFO fields exported as gauges: INFO name -> metric name (without the `redis_` prefix).
    static let gauges: [String: String] = [
        // Server
        "uptime_in_seconds": "uptime_in_seconds", "process_id": "process_id", "io_threads_active": "io_threads_active",
        // Clients
        "connected_clients": "connected_clients", "blocked_clients": "blocked_clients", "maxclients": "max_clients",
        "tracking_clients": "tracking_clients", "clients_in_timeout_table": "clients_in_timeout_table",
        "client_recent_max_output_buffer": "client_recent_max_output_buffer_bytes",
        "client_recent_max_input_buffer": "client_recent_max_input_buffer_bytes",
        // Memory
        "allocator_active": "allocator_active_bytes", "allocator_allocated": "allocator_allocated_bytes",
        "allocator_resident": "allocator_resident_bytes", "allocator_frag_ratio": "allocator_frag_ratio",
        "allocator_frag_bytes": "allocator_frag_bytes", "allocator_rss_ratio": "allocator_rss_ratio",
        "allocator_rss_bytes": "allocator_rss_bytes",
        "used_memory": "memory_used_bytes", "used_memory_rss": "memory_used_rss_bytes",
        "used_memory_peak": "memory_used_peak_bytes", "used_memory_lua": "memory_used_lua_bytes",
        "used_memory_vm_eval": "memory_used_vm_eval_bytes", "used_memory_scripts_eval": "memory_used_scripts_eval_bytes",
        "used_memory_overhead": "memory_used_overhead_bytes", "used_memory_startup": "memory_used_startup_bytes",
        "used_memory_dataset": "memory_used_dataset_bytes", "number_of_cached_scripts": "number_of_cached_scripts",
        "number_of_functions": "number_of_functions", "used_memory_vm_functions": "memory_used_vm_functions_bytes",
        "used_memory_scripts": "memory_used_scripts_bytes", "used_memory_functions": "memory_used_functions_bytes",
        "used_memory_vm_total": "memory_used_vm_total", "maxmemory": "memory_max_bytes",
        "mem_fragmentation_ratio": "mem_fragmentation_ratio", "mem_fragmentation_bytes": "mem_fragmentation_bytes",
        "mem_clients_slaves": "mem_clients_slaves", "mem_clients_normal": "mem_clients_normal",
        "mem_cluster_links": "mem_cluster_links_bytes", "mem_aof_buffer": "mem_aof_buffer_bytes",
        "mem_replication_backlog": "mem_replication_backlog_bytes",
        "mem_not_counted_for_evict": "mem_not_counted_for_eviction_bytes",
        "mem_total_replication_buffers": "mem_total_replication_buffers_bytes",
        "expired_stale_perc": "expired_stale_percentage",
        "lazyfree_pending_objects": "lazyfree_pending_objects", "lazyfreed_objects": "lazyfreed_objects",
        "active_defrag_running": "active_defrag_running", "migrate_cached_sockets": "migrate_cached_sockets_total",
        "active_defrag_hits": "defrag_hits", "active_defrag_misses": "defrag_misses",
        "active_defrag_key_hits": "defrag_key_hits", "active_defrag_key_misses": "defrag_key_misses",
        // Persistence
        "loading": "loading_dump_file", "async_loading": "async_loading",
        "rdb_changes_since_last_save": "rdb_changes_since_last_save", "rdb_bgsave_in_progress": "rdb_bgsave_in_progress",
        "rdb_last_save_time": "rdb_last_save_timestamp_seconds", "rdb_last_bgsave_status": "rdb_last_bgsave_status",
        "rdb_last_bgsave_time_sec": "rdb_last_bgsave_duration_sec",
        "rdb_current_bgsave_time_sec": "rdb_current_bgsave_duration_sec",
        "rdb_saves": "rdb_saves_total", "rdb_last_cow_size": "rdb_last_cow_size_bytes",
        "rdb_last_load_keys_expired": "rdb_last_load_expired_keys", "rdb_last_load_keys_loaded": "rdb_last_load_loaded_keys",
        "aof_enabled": "aof_enabled", "aof_rewrite_in_progress": "aof_rewrite_in_progress",
        "aof_rewrite_scheduled": "aof_rewrite_scheduled", "aof_last_rewrite_time_sec": "aof_last_rewrite_duration_sec",
        "aof_current_rewrite_time_sec": "aof_current_rewrite_duration_sec", "aof_last_cow_size": "aof_last_cow_size_bytes",
        "aof_current_size": "aof_current_size_bytes", "aof_base_size": "aof_base_size_bytes",
        "aof_pending_rewrite": "aof_pending_rewrite", "aof_buffer_length": "aof_buffer_length",
        "aof_rewrite_buffer_length": "aof_rewrite_buffer_length", "aof_pending_bio_fsync": "aof_pending_bio_fsync",
        "aof_delayed_fsync": "aof_delayed_fsync", "aof_last_bgrewrite_status": "aof_last_bgrewrite_status",
        "aof_last_write_status": "aof_last_write_status", "module_fork_in_progress": "module_fork_in_progress",
        "module_fork_last_cow_size": "module_fork_last_cow_size",
        // Stats
        "current_eviction_exceeded_time": "current_eviction_exceeded_time_ms",
        "pubsub_channels": "pubsub_channels", "pubsub_patterns": "pubsub_patterns",
        "pubsubshard_channels": "pubsubshard_channels",
        "tracking_total_keys": "tracking_total_keys", "tracking_total_items": "tracking_total_items",
        "tracking_total_prefixes": "tracking_total_prefixes",
        "instantaneous_ops_per_sec": "instantaneous_ops_per_sec",
        "instantaneous_input_kbps": "instantaneous_input_kbps", "instantaneous_output_kbps": "instantaneous_output_kbps",
        // Replication
        "connected_slaves": "connected_slaves", "repl_backlog_size": "replication_backlog_bytes",
        "repl_backlog_active": "repl_backlog_is_active", "repl_backlog_first_byte_offset": "repl_backlog_first_byte_offset",
        "repl_backlog_histlen": "repl_backlog_history_bytes", "master_repl_offset": "master_repl_offset",
        "second_repl_offset": "second_repl_offset", "slave_expires_tracked_keys": "slave_expires_tracked_keys",
        "sync_full": "replica_resyncs_full", "sync_partial_ok": "replica_partial_resync_accepted",
        "sync_partial_err": "replica_partial_resync_denied",
        "master_last_io_seconds_ago": "master_last_io_seconds_ago", "master_sync_in_progress": "master_sync_in_progress",
        "slave_repl_offset": "slave_repl_offset", "slave_priority": "slave_priority",
    ]

    /// INFO fields exported as counters.
    static let counters: [String: String] = [
        "total_connections_received": "connections_received_total",
        "total_commands_processed": "commands_processed_total",
        "rejected_connections": "rejected_connections_total",
        "total_net_input_bytes": "net_input_bytes_total", "total_net_output_bytes": "net_output_bytes_total",
        "total_net_repl_input_bytes": "net_repl_input_bytes_total", "total_net_repl_output_bytes": "net_repl_output_bytes_total",
        "expired_keys": "expired_keys_total", "expired_time_cap_reached_count": "expired_time_cap_reached_total",
        "expire_cycle_cpu_milliseconds": "expire_cycle_cpu_time_ms_total",
        "evicted_keys": "evicted_keys_total", "evicted_clients": "evicted_clients_total",
        "total_eviction_exceeded_time": "eviction_exceeded_time_ms_total",
        "keyspace_hits": "keyspace_hits_total", "keyspace_misses": "keyspace_misses_total",
        "used_cpu_sys": "cpu_sys_seconds_total", "used_cpu_user": "cpu_user_seconds_total",
        "used_cpu_sys_children": "cpu_sys_children_seconds_total", "used_cpu_user_children": "cpu_user_children_seconds_total",
        "used_cpu_sys_main_thread": "cpu_sys_main_thread_seconds_total",
        "used_cpu_user_main_thread": "cpu_user_main_thread_seconds_total",
        "unexpected_error_replies": "unexpected_error_replies", "total_error_replies": "total_error_replies",
        "dump_payload_sanitizations": "dump_payload_sanitizations",
        "total_reads_processed": "total_reads_processed", "total_writes_processed": "total_writes_processed",
        "io_threaded_reads_processed": "io_threaded_reads_processed",
        "io_threaded_writes_processed": "io_threaded_writes_processed",
        "client_query_buffer_limit_disconnections": "client_query_buffer_limit_disconnections_total",
        "client_output_buffer_limit_disconnections": "client_output_buffer_limit_disconnections_total",
        "reply_buffer_shrinks": "reply_buffer_shrinks_total", "reply_buffer_expands": "reply_buffer_expands_total",
        "total_forks": "forks_total",
    ]

    /// Parses INFO text into (section, field, value) triples.
    static func parseInfo(_ text: String) -> [(section: String, key: String, value: String)] {
        var out: [(String, String, String)] = []
        var section = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.drop(while: { $0 == " " })
            if line.isEmpty { continue }
            if line.hasPrefix("#") { section = String(line.dropFirst().drop(while: { $0 == " " })); continue }
            guard let colon = line.firstIndex(of: ":") else { continue }
            out.append((section, String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return out
    }

    /// "a=1,b=2" -> ["a": "1", "b": "2"].
    static func subfields(_ v: String) -> [String: String] {
        var d: [String: String] = [:]
        for part in v.split(separator: ",") {
            if let eq = part.firstIndex(of: "=") { d[String(part[..<eq])] = String(part[part.index(after: eq)...]) }
        }
        return d
    }

    /// A value as redis_exporter reads it: ok/true -> 1, err/fail/false -> 0, else a number.
    static func number(_ v: String) -> Double? {
        switch v {
        case "ok", "true": return 1
        case "err", "fail", "false": return 0
        default: return Double(v)
        }
    }

    /// The exposition text for one scrape.
    public static func render(_ samples: [ShardSample]) -> [UInt8] {
        let r = PrometheusCollectorRegistry()
        // Full names (redis_exporter's), so no namespace/unit parts.
        func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)], _ v: Double) {
            r.makeGauge(descriptor: descriptor(name, help), labels: labels).set(v)
        }
        func counter(_ name: String, _ help: String, _ labels: [(String, String)], _ v: Double) {
            let c = r.makeCounter(descriptor: descriptor(name, help), labels: labels)
            if v == v.rounded(.towardZero) && abs(v) < 9e15 {
                if v > 0 { c.increment(by: Int64(v)) }
            } else if v > 0 {
                c.increment(by: v)
            }
        }
        for s in samples {
            let shard = ("shard", String(s.index))
            let up = s.info != nil
            gauge("tessera_shard_up", "Whether the shard answered this scrape (1) or not (0)", [shard], up ? 1 : 0)
            gauge("redis_up", "Information about the Redis instance", [shard], up ? 1 : 0)
            gauge("tessera_shard_pid", "Process id of the shard (0: not running)", [shard], Double(s.pid))
            counter("tessera_shard_restarts_total", "Times the supervisor restarted the shard", [shard], Double(s.restarts))
            gauge("tessera_shard_process_uptime_seconds", "Seconds since the supervisor started the shard's current process",
                  [shard], Double(s.uptimeSeconds))
            guard let info = s.info else { continue }
            exportInfo(info, s, shard: shard, gauge: gauge, counter: counter)
            if let n = s.slowlogLength { gauge("redis_slowlog_length", "Total slowlog", [shard], Double(n)) }
            if let last = s.slowlogLast {
                gauge("redis_slowlog_last_id", "Last id of slowlog", [shard], Double(last.id))
                gauge("redis_last_slow_execution_duration_seconds",
                      "The amount of time needed for last slow execution, in seconds", [shard], Double(last.micros) / 1e6)
            } else if s.slowlogLength != nil {
                gauge("redis_slowlog_last_id", "Last id of slowlog", [shard], 0)
                gauge("redis_last_slow_execution_duration_seconds",
                      "The amount of time needed for last slow execution, in seconds", [shard], 0)
            }
            for e in s.latencyLatest {
                gauge("redis_latency_spike_last", "When the latency spike last occurred", [shard, ("event_name", e.event)],
                      Double(e.time))
                gauge("redis_latency_spike_duration_seconds", "Length of the last latency spike in seconds",
                      [shard, ("event_name", e.event)], Double(e.latestMs) / 1000)
            }
        }
        return r.emitToBuffer()
    }

    static func exportInfo(_ info: String, _ s: ShardSample, shard: (String, String),
                           gauge: (String, String, [(String, String)], Double) -> Void,
                           counter: (String, String, [(String, String)], Double) -> Void) {
        var kv: [String: String] = [:]
        var dbsSeen = Set<String>()
        var forwarded: Double = 0
        for (section, key, value) in parseInfo(info) {
            kv[key] = value
            switch section {
            case "Commandstats":
                guard key.hasPrefix("cmdstat_") else { continue }
                let cmd = String(key.dropFirst(8))
                let f = subfields(value)
                let l = [shard, ("cmd", cmd)]
                counter("redis_commands_total", "Total number of calls per command", l, Double(f["calls"] ?? "") ?? 0)
                counter("redis_commands_duration_seconds_total", "Total amount of time in seconds spent per command", l,
                        (Double(f["usec"] ?? "") ?? 0) / 1e6)
                if let rej = f["rejected_calls"].flatMap(Double.init) {
                    counter("redis_commands_rejected_calls_total", "Total number of errors within command execution per command", l, rej)
                }
                if let fail = f["failed_calls"].flatMap(Double.init) {
                    counter("redis_commands_failed_calls_total", "Total number of errors prior command execution per command", l, fail)
                }
                continue
            case "Errorstats":
                guard key.hasPrefix("errorstat_") else { continue }
                counter("redis_errors_total", "Total number of errors per error type", [shard, ("err", String(key.dropFirst(10)))],
                        Double(subfields(value)["count"] ?? "") ?? 0)
                continue
            case "Keyspace":
                guard key.hasPrefix("db") else { continue }
                let f = subfields(value)
                let l = [shard, ("db", key)]
                gauge("redis_db_keys", "Total number of keys by DB", l, Double(f["keys"] ?? "") ?? 0)
                gauge("redis_db_keys_expiring", "Total number of expiring keys by DB", l, Double(f["expires"] ?? "") ?? 0)
                if let ttl = f["avg_ttl"].flatMap(Double.init) {
                    gauge("redis_db_avg_ttl_seconds", "Avg TTL in seconds", l, ttl / 1000)
                }
                dbsSeen.insert(key)
                continue
            case "Latencystats":
                continue
            case "Replication":
                // slaveN:ip=..,port=..,state=..,offset=..,lag=.. and the link's state, as redis_exporter.
                if key.hasPrefix("slave"), key.dropFirst(5).allSatisfy(\.isNumber), !key.dropFirst(5).isEmpty {
                    let f = subfields(value)
                    let l = [shard, ("slave_ip", f["ip"] ?? ""), ("slave_port", f["port"] ?? ""), ("slave_state", f["state"] ?? "")]
                    gauge("redis_connected_slave_offset_bytes", "Offset of connected slave", l, Double(f["offset"] ?? "") ?? 0)
                    gauge("redis_connected_slave_lag_seconds", "Lag of connected slave", l, Double(f["lag"] ?? "") ?? 0)
                    continue
                }
                if key == "master_link_status" {
                    gauge("redis_master_link_up", "Whether the link to the master is up", [shard], value == "up" ? 1 : 0)
                    continue
                }
            default:
                break
            }
            if key == "tessera_forwarded_commands" { forwarded = Double(value) ?? 0; continue }
            if key == "latest_fork_usec" {
                gauge("redis_latest_fork_seconds", "Duration of the latest fork in seconds", [shard], (Double(value) ?? 0) / 1e6)
                continue
            }
            if let name = gauges[key], let v = number(value) {
                gauge("redis_" + name, "redis_" + name + " metric", [shard], v)
            } else if let name = counters[key], let v = number(value) {
                counter("redis_" + name, "redis_" + name + " metric", [shard], v)
            }
        }
        // Databases without keys still get their series (as redis_exporter does).
        for i in 0..<(s.databases ?? 16) where !dbsSeen.contains("db\(i)") {
            gauge("redis_db_keys", "Total number of keys by DB", [shard, ("db", "db\(i)")], 0)
            gauge("redis_db_keys_expiring", "Total number of expiring keys by DB", [shard, ("db", "db\(i)")], 0)
        }
        counter("tessera_forwarded_commands_total", "Commands this shard forwarded to another shard", [shard], forwarded)
        if let up = kv["uptime_in_seconds"].flatMap(Double.init), let now = kv["server_time_usec"].flatMap(Double.init) {
            gauge("redis_start_time_seconds", "Start time of the Redis instance since unix epoch in seconds.", [shard],
                  (now / 1e6 - up).rounded())
        }
        let infoLabels = ["role", "redis_version", "redis_build_id", "redis_mode", "os", "maxmemory_policy", "tcp_port",
                          "run_id", "process_id"]
        gauge("redis_instance_info", "Information about the Redis instance",
              [shard] + infoLabels.map { ($0, kv[$0] ?? "") } + [("tessera_version", kv["tessera_version"] ?? "")], 1)
    }
}
