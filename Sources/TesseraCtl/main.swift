// tessera-ctl: manages a running tessera-server through its control socket
// (`control-socket` in the server's config). Exit codes: 0 success, 1 the
// server answered with an error, 2 the server cannot be reached (not running,
// no socket, or not permitted), 64 usage error.

import ArgumentParser
import Control
import RESP
import Foundation
import Glibc

struct ControlClient {
    let fd: Int32

    static func connect(_ path: String) throws -> ControlClient {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CtlError.unreachable("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw CtlError.unreachable("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in for (i, b) in bytes.enumerated() { dst[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if r != 0 {
            let e = errno
            close(fd)
            switch e {
            case EACCES, EPERM: throw CtlError.unreachable("permission denied on \(path) (are you in the server's group?)")
            case ENOENT, ECONNREFUSED: throw CtlError.unreachable("tessera-server is not running (no control socket at \(path))")
            default: throw CtlError.unreachable("cannot connect to \(path): \(String(cString: strerror(e)))")
            }
        }
        var tv = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return ControlClient(fd: fd)
    }

    func call(_ args: [String]) throws -> RESPValue {
        let req = encodeRESPCommand(args)
        _ = req.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reader = RESPReplyReader()
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            if let v = try reader.next() { return v }
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw CtlError.unreachable("the server closed the control connection") }
            reader.append(Array(buf[0..<n]))
        }
    }
}

enum CtlError: Error, CustomStringConvertible {
    case unreachable(String)
    case server(String)
    var description: String {
        switch self { case .unreachable(let m), .server(let m): return m }
    }
}

struct Options: ParsableArguments {
    @Option(name: .long, help: "The control socket (default: control-socket from /etc/tessera/tessera.conf, else /run/tessera/tessera.sock).")
    var socket: String?

    @Flag(name: .long, help: "Print results as JSON.")
    var json = false

    var socketPath: String {
        if let s = socket { return s }
        if let text = try? String(contentsOfFile: "/etc/tessera/tessera.conf", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ", omittingEmptySubsequences: true)
                if words.count == 2 && words[0] == "control-socket" {
                    let v = words[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if !v.isEmpty { return v }
                }
            }
        }
        return "/run/tessera/tessera.sock"
    }
}

/// Runs one control command and prints the reply; maps failures to exit codes.
func perform(_ o: Options, _ args: [String], render: ((RESPValue) -> String)? = nil) throws {
    let reply: RESPValue
    do {
        reply = try ControlClient.connect(o.socketPath).call(args)
    } catch let e as CtlError {
        FileHandle.standardError.write(("tessera-ctl: \(e)\n").data(using: .utf8)!)
        throw ExitCode(2)
    }
    if case .error(let m) = reply {
        FileHandle.standardError.write(("tessera-ctl: \(m)\n").data(using: .utf8)!)
        throw ExitCode(1)
    }
    print(o.json ? json(reply) : (render?(reply) ?? plain(reply)))
}

func plain(_ v: RESPValue) -> String {
    switch v {
    case .array(let items?): return items.map(plain).joined(separator: "\n")
    case .array(nil), .bulk(nil): return "(nil)"
    default: return v.text ?? ""
    }
}

/// Arrays of [name, value, name, value...] (STATUS, SHARDS rows) become objects.
func json(_ v: RESPValue) -> String {
    func esc(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += ch.value < 0x20 ? String(format: "\\u%04x", ch.value) : String(ch)
            }
        }
        return out + "\""
    }
    switch v {
    case .integer(let i): return String(i)
    case .simple(let s), .error(let s): return esc(s)
    case .bulk(let b?): return esc(String(decoding: b, as: UTF8.self))
    case .bulk(nil), .array(nil): return "null"
    case .array(let items?):
        let isObject = items.count % 2 == 0 && !items.isEmpty
            && stride(from: 0, to: items.count, by: 2).allSatisfy { if case .bulk = items[$0] { return true }; return false }
            && items.contains(where: { if case .integer = $0 { return true }; return false })
        if isObject {
            return "{" + stride(from: 0, to: items.count, by: 2).map { esc(items[$0].text ?? "") + ": " + json(items[$0 + 1]) }
                .joined(separator: ", ") + "}"
        }
        return "[" + items.map(json).joined(separator: ", ") + "]"
    }
}

/// STATUS/SHARDS rows as an aligned table.
func table(_ v: RESPValue) -> String {
    guard case .array(let rows?) = v else { return plain(v) }
    var header: [String] = []
    var lines: [[String]] = []
    for row in rows {
        guard case .array(let items?) = row else { continue }
        var cells: [String] = []
        for i in stride(from: 0, to: items.count - 1, by: 2) {
            if lines.isEmpty { header.append(items[i].text ?? "") }
            cells.append(items[i + 1].text ?? "")
        }
        lines.append(cells)
    }
    let all = [header] + lines
    let widths = header.indices.map { c in all.map { $0.indices.contains(c) ? $0[c].count : 0 }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }.joined(separator: "\n")
}

@main
struct TesseraCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-ctl",
        abstract: "Manage a running tessera-server through its control socket.",
        subcommands: [Status.self, Shards.self, RestartShard.self, Reload.self, Save.self, Bgsave.self,
                      ConfigCmd.self, Plugins.self, Info.self, Shutdown.self, Ping.self, Top.self])

    /// `--socket PATH` and `--json` may also come before the subcommand.
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        var global: [String] = []
        while let first = args.first, first.hasPrefix("--") {
            if first == "--socket" && args.count >= 2 { global += args.prefix(2); args.removeFirst(2) }
            else if first.hasPrefix("--socket=") || first == "--json" { global.append(first); args.removeFirst() }
            else { break }
        }
        if let sub = args.first, !sub.hasPrefix("-") { args = [sub] + global + args.dropFirst() } else { args = global + args }
        main(args)
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per shard: pid, state, uptime, restarts, keys, memory, ops/s, last save, role and replication link or lag.")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["STATUS"], render: table) }
    }
    struct Shards: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the shards with their pid, state and restart count.")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["SHARDS"], render: table) }
    }
    struct RestartShard: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restart-shard", abstract: "Restart one shard gracefully (it saves per config first).")
        @OptionGroup var o: Options
        @Argument(help: "The shard index.") var index: Int
        func run() throws { try perform(o, ["RESTART-SHARD", String(index)]) }
    }
    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reload the configuration file (what SIGHUP does).")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["RELOAD"]) }
    }
    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an RDB snapshot of every shard now (SAVE).")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["SAVE"]) }
    }
    struct Bgsave: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a background snapshot on every shard (BGSAVE).")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["BGSAVE"]) }
    }
    struct ConfigCmd: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "config", abstract: "config get NAME | config set NAME VALUE (applied to every shard).")
        @OptionGroup var o: Options
        @Argument(help: "get or set") var action: String
        @Argument(help: "The parameter.") var name: String
        @Argument(help: "The value (set).") var value: String?
        func validate() throws {
            switch (action.lowercased(), value) {
            case ("get", nil), ("set", .some): return
            default: throw ValidationError("use: config get NAME | config set NAME VALUE")
            }
        }
        func run() throws {
            if action.lowercased() == "get" { try perform(o, ["CONFIG", "GET", name]) }
            else { try perform(o, ["CONFIG", "SET", name, value!]) }
        }
    }
    struct Plugins: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "plugins list: the modules loaded in the server.")
        @OptionGroup var o: Options
        @Argument(help: "list") var action: String = "list"
        func validate() throws { if action.lowercased() != "list" { throw ValidationError("use: plugins list") } }
        func run() throws { try perform(o, ["PLUGINS", "LIST"]) }
    }
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "INFO of the server (every shard), optionally one section.")
        @OptionGroup var o: Options
        @Argument(help: "An INFO section.") var section: String?
        func run() throws { try perform(o, ["INFO"] + (section.map { [$0] } ?? [])) }
    }
    struct Shutdown: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the server (saving per config, or not with --nosave).")
        @OptionGroup var o: Options
        @Flag(name: .long, help: "Do not save a final snapshot.") var nosave = false
        func run() throws { try perform(o, nosave ? ["SHUTDOWN", "NOSAVE"] : ["SHUTDOWN"]) }
    }
    struct Ping: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that the supervisor answers.")
        @OptionGroup var o: Options
        func run() throws { try perform(o, ["PING"]) }
    }
}
