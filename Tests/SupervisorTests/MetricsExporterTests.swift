import Testing
@testable import Supervisor

@Suite struct MetricsExporterTests {
    static let info = """
        # Server\r\nredis_version:7.0.15\r\nprocess_id:42\r\nrun_id:abc\r\ntcp_port:6379\r\nuptime_in_seconds:10\r\n\
        server_time_usec:1700000010000000\r\nrole:master\r\n\r\n# Clients\r\nconnected_clients:3\r\nblocked_clients:1\r\n\r\n\
        # Memory\r\nused_memory:1048576\r\nmaxmemory:0\r\nmem_fragmentation_ratio:1.25\r\nmaxmemory_policy:noeviction\r\n\r\n\
        # Persistence\r\nrdb_last_bgsave_status:err\r\naof_last_write_status:ok\r\n\r\n\
        # Stats\r\ntotal_commands_processed:99\r\nkeyspace_hits:7\r\nlatest_fork_usec:2500\r\ntessera_forwarded_commands:5\r\n\r\n\
        # Commandstats\r\ncmdstat_set:calls=4,usec=10,usec_per_call=2.50,rejected_calls=1,failed_calls=0\r\n\
        cmdstat_client|list:calls=1,usec=3,usec_per_call=3.00,rejected_calls=0,failed_calls=0\r\n\r\n\
        # Errorstats\r\nerrorstat_WRONGTYPE:count=2\r\n\r\n# Keyspace\r\ndb0:keys=5,expires=2,avg_ttl=3000\r\n
        """

    func render(_ samples: [ShardSample]) -> [String] {
        String(decoding: MetricsExporter.render(samples), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func infoFieldsBecomeRedisExporterSeries() {
        var s = ShardSample(index: 0, pid: 42, state: "ready", restarts: 2, uptimeSeconds: 10)
        s.info = Self.info
        s.slowlogLength = 3
        s.slowlogLast = (id: 9, micros: 1500)
        s.latencyLatest = [("command", 1_700_000_000, 12, 40)]
        s.databases = 2
        let lines = render([s])
        for expected in [
            #"redis_up{shard="0"} 1.0"#, #"tessera_shard_up{shard="0"} 1.0"#, #"tessera_shard_restarts_total{shard="0"} 2"#,
            #"redis_connected_clients{shard="0"} 3.0"#, #"redis_memory_used_bytes{shard="0"} 1048576.0"#,
            #"redis_mem_fragmentation_ratio{shard="0"} 1.25"#, #"redis_rdb_last_bgsave_status{shard="0"} 0.0"#,
            #"redis_aof_last_write_status{shard="0"} 1.0"#, #"redis_commands_processed_total{shard="0"} 99"#,
            #"redis_keyspace_hits_total{shard="0"} 7"#, #"redis_latest_fork_seconds{shard="0"} 0.0025"#,
            #"tessera_forwarded_commands_total{shard="0"} 5"#, #"redis_commands_total{shard="0",cmd="set"} 4"#,
            #"redis_commands_total{shard="0",cmd="client|list"} 1"#, #"redis_commands_rejected_calls_total{shard="0",cmd="set"} 1"#,
            #"redis_errors_total{shard="0",err="WRONGTYPE"} 2"#, #"redis_db_keys{shard="0",db="db0"} 5.0"#,
            #"redis_db_keys_expiring{shard="0",db="db0"} 2.0"#, #"redis_db_avg_ttl_seconds{shard="0",db="db0"} 3.0"#,
            #"redis_db_keys{shard="0",db="db1"} 0.0"#, #"redis_slowlog_length{shard="0"} 3.0"#,
            #"redis_slowlog_last_id{shard="0"} 9.0"#, #"redis_last_slow_execution_duration_seconds{shard="0"} 0.0015"#,
            #"redis_latency_spike_duration_seconds{shard="0",event_name="command"} 0.012"#,
            #"redis_start_time_seconds{shard="0"} 1700000000.0"#, "# TYPE redis_commands_total counter",
            "# TYPE redis_memory_used_bytes gauge",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        #expect(!lines.contains { $0.hasPrefix(#"redis_db_keys{shard="0",db="db2"}"#) })
        #expect(!lines.contains { $0.hasPrefix("redis_master_link_up") })
    }

    @Test func aSilentShardIsDownWithoutItsSeries() {
        var up = ShardSample(index: 0, pid: 10, state: "ready", restarts: 0, uptimeSeconds: 1)
        up.info = Self.info
        let down = ShardSample(index: 1, pid: 0, state: "down", restarts: 4, uptimeSeconds: 0)
        let lines = render([up, down])
        #expect(lines.contains(#"redis_up{shard="1"} 0.0"#))
        #expect(lines.contains(#"tessera_shard_up{shard="1"} 0.0"#))
        #expect(lines.contains(#"tessera_shard_restarts_total{shard="1"} 4"#))
        #expect(lines.contains(#"tessera_shard_pid{shard="1"} 0.0"#))
        #expect(!lines.contains { $0.contains(#"shard="1""#) && $0.hasPrefix("redis_memory_used_bytes") })
        // One TYPE line per family even with several shards.
        #expect(lines.filter { $0 == "# TYPE redis_up gauge" }.count == 1)
    }

    @Test func infoParsing() {
        let parsed = MetricsExporter.parseInfo("# Stats\r\na:1\r\nb:x:y\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n")
        #expect(parsed.map(\.key) == ["a", "b", "db0"])
        #expect(parsed[1].value == "x:y" && parsed[2].section == "Keyspace")
        #expect(MetricsExporter.subfields("keys=1,expires=0") == ["keys": "1", "expires": "0"])
        #expect(MetricsExporter.number("ok") == 1 && MetricsExporter.number("err") == 0 && MetricsExporter.number("x") == nil)
    }
}
