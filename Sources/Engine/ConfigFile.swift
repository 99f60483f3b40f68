// Reads redis.conf-syntax configuration: a file, then `--name value ...`
// command-line overrides, exactly like redis-server. A bad directive stops
// start-up with the file, line and reason.

import Foundation
import RESP

public struct ConfigFileError: Error, CustomStringConvertible {
    public let line: Int
    public let text: String
    public let reason: String
    public let file: String

    public var description: String {
        """
        *** FATAL CONFIG FILE ERROR (Tessera \(ShardEngine.tesseraVersion), Redis \(ShardEngine.redisVersion) compatible) ***
        Reading the configuration file \(file), at line \(line)
        >>> '\(text)'
        \(reason)
        """
    }
}

public enum ConfigFile {
    /// Turns command-line arguments (after the optional config file) into config lines:
    /// `--port 7000 --save ""` becomes ["port 7000", "save \"\""].
    public static func lines(fromArguments args: [String]) -> String {
        var out: [String] = []
        var current: [String] = []
        for a in args {
            if a.hasPrefix("--") && a.count > 2 {
                if !current.isEmpty { out.append(current.joined(separator: " ")) }
                current = [String(a.dropFirst(2))]
            } else {
                current.append(quote(a))
            }
        }
        if !current.isEmpty { out.append(current.joined(separator: " ")) }
        return out.joined(separator: "\n")
    }

    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" }) { return s }
        var r = "\""
        for ch in s {
            if ch == "\"" || ch == "\\" { r.append("\\") }
            r.append(ch)
        }
        return r + "\""
    }

    /// Applies config text to `config`. `file` names the source in errors.
    public static func apply(_ text: String, to config: Config, file: String) throws {
        var lineNo = 0
        var savesSeen = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let parts = splitArgs(line), !parts.isEmpty else {
                throw ConfigFileError(line: lineNo, text: line, reason: "Unbalanced quotes in configuration line", file: file)
            }
            let name = parts[0].lowercased()
            let values = Array(parts.dropFirst())
            do {
                if name == "include" {
                    guard values.count == 1 else { throw ConfigError.unknown(name) }
                    let inc = try String(contentsOfFile: values[0], encoding: .utf8)
                    try apply(inc, to: config, file: values[0])
                    continue
                }
                if name == "rename-command" {
                    // rename-command <command> <new name>; "" as new name disables the command.
                    guard values.count == 2 else { throw ConfigError.unknown(name) }
                    guard ShardEngine.commandNames.contains(values[0].lowercased()) else {
                        throw ConfigError.invalid(name, "No such command in rename-command")
                    }
                    config.renamedCommands.append((values[0].lowercased(), values[1].lowercased()))
                    continue
                }
                if name == "loadmodule" {
                    // loadmodule <path> [args...]: a plugin loaded at startup (PluginHost).
                    guard !values.isEmpty else { throw ConfigError.unknown(name) }
                    config.loadModules.append((values[0], Array(values.dropFirst())))
                    continue
                }
                guard config.param(name) != nil else { throw ConfigError.unknown(name) }
                // Multi-argument directives (save, client-output-buffer-limit, bind...) join their values.
                if values.isEmpty && name != "save" { throw ConfigError.unknown(name) }
                if name == "save" {
                    // Repeated `save` lines accumulate, like redis.conf.
                    let joined = values.joined(separator: " ")
                    if joined.isEmpty { try config.set("save", ""); continue }
                    let prev = savesSeen ? (config.get("save") ?? "") : ""
                    savesSeen = true
                    try config.set("save", prev.isEmpty ? joined : prev + " " + joined)
                    continue
                }
                try config.set(name, values.joined(separator: " "))
            } catch let e as ConfigError {
                let reason: String
                switch e {
                case .unknown: reason = "Bad directive or wrong number of arguments"
                default: reason = e.description
                }
                throw ConfigFileError(line: lineNo, text: line, reason: reason, file: file)
            }
        }
    }

    /// Splits a line with redis.conf quoting rules (same as inline commands).
    public static func splitArgs(_ line: String) -> [String]? {
        var bytes = Array(line.utf8)
        var spans: [ArgSpan] = []
        let ok = bytes.withUnsafeMutableBufferPointer { p in
            splitInline(p.baseAddress!, count: p.count, into: &spans)
        }
        guard ok else { return nil }
        return spans.map { String(decoding: bytes[$0.offset..<($0.offset + $0.count)], as: UTF8.self) }
    }
}
