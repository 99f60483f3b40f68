// A swift-log handler writing Redis's log line format:
//   <pid>:M 27 Nov 2026 08:03:49.123 * message
// with '.' debug, '-' verbose (info), '*' notice, '#' warning and above.

import Foundation
import Logging

struct RedisStyleLogHandler: LogHandler {
    nonisolated(unsafe) static var output: FileHandle = .standardOutput
    /// The role letter after the pid, as Redis: M a master shard, S a replica, X the supervisor.
    nonisolated(unsafe) static var role: () -> String = { "M" }

    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .notice

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func level(_ name: String) -> Logger.Level {
        switch name {
        case "debug": return .debug
        case "verbose": return .info
        case "warning": return .warning
        default: return .notice
        }
    }

    static func configure(level: String, file: String) {
        if !file.isEmpty {
            if !FileManager.default.fileExists(atPath: file) {
                FileManager.default.createFile(atPath: file, contents: nil)
            }
            if let h = FileHandle(forWritingAtPath: file) {
                h.seekToEndOfFile()
                output = h
            }
        }
        let l = Self.level(level)
        LoggingSystem.bootstrap { _ in
            var h = RedisStyleLogHandler()
            h.logLevel = l
            return h
        }
    }

    /// Text written as is, without the line prefix (the start-up banner).
    static func writeRaw(_ text: String) {
        output.write(text.data(using: .utf8)!)
    }

    nonisolated(unsafe) static let formatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "dd MMM yyyy HH:mm:ss.SSS"
        return f
    }()

    func log(event: LogEvent) {
        let mark: String
        switch event.level {
        case .trace, .debug: mark = "."
        case .info: mark = "-"
        case .notice: mark = "*"
        default: mark = "#"
        }
        let line = "\(getpid()):\(Self.role()) \(Self.formatter.string(from: Date())) \(mark) \(event.message)\n"
        Self.output.write(line.data(using: .utf8)!)
    }
}
