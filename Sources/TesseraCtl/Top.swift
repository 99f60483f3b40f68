// `tessera-ctl top`: a live per-shard view, like `redis-cli --stat` but one
// line per shard: keys, memory, fragmentation, clients, ops/s (from the
// command counter between two polls), hit ratio, slowlog length, the latest
// latency event, restarts. Redraws in place on a terminal; prints one frame
// after the other as plain text when stdout is not a terminal (pipes, logs);
// `--json` prints one JSON array per refresh.

import ArgumentParser
import Control
import Foundation
import Glibc

struct TopRow {
    var fields: [String: RESPValue] = [:]
    func int(_ k: String) -> Int64 { if case .integer(let i)? = fields[k] { return i }; return Int64(fields[k]?.text ?? "") ?? 0 }
    func str(_ k: String) -> String { fields[k]?.text ?? "" }
}

func parseTopRows(_ v: RESPValue) -> [TopRow] {
    guard case .array(let rows?) = v else { return [] }
    return rows.compactMap { row in
        guard case .array(let items?) = row else { return nil }
        var r = TopRow()
        for i in stride(from: 0, to: items.count - 1, by: 2) { r.fields[items[i].text ?? ""] = items[i + 1] }
        return r
    }
}

func humanBytes(_ n: Int64) -> String {
    let units = ["B", "K", "M", "G", "T"]
    var v = Double(n), u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n)B" : String(format: "%.2f%@", v, units[u])
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live per-shard view refreshed every second: ops/s, clients, memory, fragmentation, slowlog, latest latency event.")
    @OptionGroup var o: Options
    @Option(name: .long, help: "Stop after this many refreshes (default: until interrupted).") var iterations: Int?
    @Flag(name: .long, help: "One refresh, then exit (as --iterations 1).") var once = false
    @Option(name: .long, help: "Seconds between refreshes.") var interval: Double = 1

    func validate() throws {
        if let n = iterations, n < 1 { throw ValidationError("--iterations must be at least 1") }
        if interval < 0.1 { throw ValidationError("--interval must be at least 0.1") }
    }

    func run() throws {
        let limit = once ? 1 : iterations
        let tty = isatty(1) != 0 && !o.json
        let client: ControlClient
        do { client = try ControlClient.connect(o.socketPath) } catch let e as CtlError {
            FileHandle.standardError.write("tessera-ctl: \(e)\n".data(using: .utf8)!)
            throw ExitCode(2)
        }
        var previous: [Int64: (commands: Int64, at: Double)] = [:]
        var n = 0
        while limit.map({ n < $0 }) ?? true {
            if n > 0 { usleep(useconds_t(interval * 1_000_000)) }
            n += 1
            let reply: RESPValue
            do { reply = try client.call(["TOP"]) } catch let e as CtlError {
                FileHandle.standardError.write("tessera-ctl: \(e)\n".data(using: .utf8)!)
                throw ExitCode(2)
            }
            if case .error(let m) = reply {
                FileHandle.standardError.write("tessera-ctl: \(m)\n".data(using: .utf8)!)
                throw ExitCode(1)
            }
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let now = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            var rows = parseTopRows(reply)
            for i in rows.indices {
                let shard = rows[i].int("shard"), total = rows[i].int("total_commands_processed")
                var ops = rows[i].int("ops_per_sec")
                if let p = previous[shard], now > p.at, total >= p.commands {
                    // (The supervisor's own commands, this poll's included, are not counted by the shard.)
                    ops = Int64((Double(total - p.commands) / (now - p.at)).rounded())
                }
                previous[shard] = (total, now)
                rows[i].fields["ops_per_sec"] = .integer(ops)
            }
            if o.json {
                print(json(.array(rows.map { r in
                    .array(r.fields.keys.sorted().flatMap { [RESPValue.bulkString($0), r.fields[$0]!] })
                })))
            } else {
                let frame = renderTop(rows, wallClock: Date())
                if tty { print("\u{1B}[H\u{1B}[2J" + frame, terminator: "") } else { print(frame) }
            }
            fflush(stdout)
        }
    }
}

func renderTop(_ rows: [TopRow], wallClock: Date) -> String {
    let f = DateFormatter()
    f.dateFormat = "HH:mm:ss"
    let totalOps = rows.reduce(Int64(0)) { $0 + $1.int("ops_per_sec") }
    let totalKeys = rows.reduce(Int64(0)) { $0 + $1.int("keys") }
    let totalMem = rows.reduce(Int64(0)) { $0 + $1.int("used_memory") }
    let totalClients = rows.reduce(Int64(0)) { $0 + $1.int("connected_clients") }
    var out = "tessera top - \(f.string(from: wallClock))  shards: \(rows.count)  keys: \(totalKeys)  "
        + "mem: \(humanBytes(totalMem))  clients: \(totalClients)  ops/s: \(totalOps)\n"
    let header = ["SHARD", "PID", "STATE", "KEYS", "MEM", "RSS", "FRAG", "CLIENTS", "BLOCKED", "OPS/S", "HIT%",
                  "SLOWLOG", "RESTARTS", "LAST LATENCY EVENT"]
    var table = [header]
    let unixNow = Int64(wallClock.timeIntervalSince1970)
    for r in rows {
        let hits = r.int("keyspace_hits"), misses = r.int("keyspace_misses")
        let hitRatio = hits + misses > 0 ? String(format: "%.1f", 100 * Double(hits) / Double(hits + misses)) : "-"
        let ev = r.str("latency_event")
        let last = ev.isEmpty ? "-" : "\(ev) \(r.int("latency_event_ms"))ms \(max(0, unixNow - r.int("latency_event_time")))s ago"
        table.append([String(r.int("shard")), String(r.int("pid")), r.str("state"), String(r.int("keys")),
                      humanBytes(r.int("used_memory")), humanBytes(r.int("used_memory_rss")), r.str("mem_fragmentation_ratio"),
                      String(r.int("connected_clients")), String(r.int("blocked_clients")), String(r.int("ops_per_sec")),
                      hitRatio, String(r.int("slowlog_len")), String(r.int("restarts")), last])
    }
    let widths = header.indices.map { c in table.map { $0[c].count }.max() ?? 0 }
    for row in table {
        out += row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        }.joined(separator: "  ") + "\n"
    }
    return out
}
