// Counters behind INFO stats / errorstats / commandstats.

public final class Stats {
    public var totalConnectionsReceived = 0
    public var totalCommandsProcessed = 0
    public var rejectedConnections = 0
    /// Commands this shard sent to the shard owning their keys (main port, several shards).
    public var forwardedCommands = 0
    /// Full and partial resyncs served to replicas (INFO stats sync_*).
    public var syncFull = 0, syncPartialOk = 0, syncPartialErr = 0
    /// Bytes of the replication stream read from a master / written to replicas.
    public var netReplInputBytes = 0, netReplOutputBytes = 0
    public var expiredKeys = 0
    public var expiredStalePerc = 0.0
    public var expiredTimeCapReachedCount = 0
    public var evictedKeys = 0
    public var evictedClients = 0
    public var keyspaceHits = 0
    public var keyspaceMisses = 0
    public var netInputBytes = 0
    public var netOutputBytes = 0
    public var totalErrorReplies = 0
    public var unexpectedErrorReplies = 0
    public var queryBufferLimitDisconnections = 0
    public var outputBufferLimitDisconnections = 0
    public var totalForks = 0
    public var latestForkUsec = 0
    public var expireCycleCpuMilliseconds = 0
    /// Error counts by prefix ("ERR", "WRONGTYPE"...).
    public var errors: [String: Int] = [:]

    // instantaneous_* metrics: samples every 100 ms over the last 16 samples.
    struct Series {
        var samples = [Double](repeating: 0, count: 16)
        var index = 0
        var lastValue = 0
        var lastTime: Int64 = 0
        mutating func track(value: Int, now: Int64) {
            if lastTime == 0 { lastTime = now; lastValue = value; return }
            let dt = now - lastTime
            if dt <= 0 { return }
            samples[index] = Double(value - lastValue) * 1000 / Double(dt)
            index = (index + 1) % samples.count
            lastTime = now
            lastValue = value
        }
        var mean: Double { samples.reduce(0, +) / Double(samples.count) }
    }
    var opsSeries = Series()
    var inputSeries = Series()
    var outputSeries = Series()
    var replInputSeries = Series()
    var replOutputSeries = Series()

    public var instantaneousOpsPerSec: Int { Int(opsSeries.mean) }
    public var instantaneousInputKbps: Double { inputSeries.mean / 1024 }
    public var instantaneousOutputKbps: Double { outputSeries.mean / 1024 }
    public var instantaneousReplInputKbps: Double { replInputSeries.mean / 1024 }
    public var instantaneousReplOutputKbps: Double { replOutputSeries.mean / 1024 }

    public func sample(now: Int64) {
        opsSeries.track(value: totalCommandsProcessed, now: now)
        inputSeries.track(value: netInputBytes, now: now)
        outputSeries.track(value: netOutputBytes, now: now)
        replInputSeries.track(value: netReplInputBytes, now: now)
        replOutputSeries.track(value: netReplOutputBytes, now: now)
    }

    public func countError(_ message: String) {
        totalErrorReplies += 1
        var code = Substring(message)
        if let sp = message.firstIndex(of: " ") { code = message[..<sp] }
        errors[String(code), default: 0] += 1
    }

    public func countError(_ message: StaticString) {
        countError(message.withUTF8Buffer { String(decoding: $0, as: UTF8.self) })
    }

    public func reset() {
        totalConnectionsReceived = 0
        totalCommandsProcessed = 0
        rejectedConnections = 0
        forwardedCommands = 0
        expiredKeys = 0
        expiredStalePerc = 0
        expiredTimeCapReachedCount = 0
        evictedKeys = 0
        evictedClients = 0
        keyspaceHits = 0
        keyspaceMisses = 0
        netInputBytes = 0
        netOutputBytes = 0
        totalErrorReplies = 0
        unexpectedErrorReplies = 0
        queryBufferLimitDisconnections = 0
        outputBufferLimitDisconnections = 0
        latestForkUsec = 0
        totalForks = 0
        errors = [:]
        expireCycleCpuMilliseconds = 0
        syncFull = 0; syncPartialOk = 0; syncPartialErr = 0
        netReplInputBytes = 0; netReplOutputBytes = 0
    }
}
