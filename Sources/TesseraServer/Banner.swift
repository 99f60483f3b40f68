// What redis-server prints at start-up that tools rely on: with
// always-show-logo, a banner whose "PID: <pid>" line test harnesses (Redis's
// own suite among them) wait for; and the pidfile.

import Foundation
import Engine

func startupBanner(port: Int, shards: Int, pid: Int32) -> String {
    """

        Tessera \(ShardEngine.tesseraVersion) (Redis \(ShardEngine.redisVersion) compatible) \(MemoryLayout<Int>.size * 8) bit
        Running in standalone mode, \(shards) shard\(shards == 1 ? "" : "s")
        Port: \(port)
        PID: \(pid)


    """
}

/// Writes `pid` and a newline to `path`, as Redis's createPidFile.
func writePidfile(_ path: String) -> Bool {
    FileManager.default.createFile(atPath: path, contents: "\(getpid())\n".data(using: .utf8))
}
