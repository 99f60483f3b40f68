// The systemd notify protocol (sd_notify), as the service manager expects it
// from the main PID: STATUS while loading (with EXTEND_TIMEOUT_USEC so a long
// load does not hit TimeoutStartSec), READY=1 once the dataset is loaded and
// clients are served, WATCHDOG=1 at half of WATCHDOG_USEC from the event loop
// (so a stalled loop stops the pings and systemd restarts the service),
// RELOADING=1 ... READY=1 around a reload, STOPPING=1 at shutdown. Without
// NOTIFY_SOCKET (not under systemd) every call is a cheap no-op.

import Glibc
import CSystemd

public final class SystemdNotifier {
    public let enabled: Bool
    /// Half of WATCHDOG_USEC in ms, or 0 when systemd does not watch us.
    public let watchdogIntervalMs: Int64
    private var lastWatchdogMs: Int64 = 0
    private var lastProgressMs: Int64 = 0

    public init() {
        enabled = getenv("NOTIFY_SOCKET") != nil
        var usec: UInt64 = 0
        if enabled && sd_watchdog_enabled(0, &usec) > 0 {
            watchdogIntervalMs = Int64(usec / 2000)
        } else {
            watchdogIntervalMs = 0
        }
    }

    @discardableResult
    public func send(_ state: String) -> Bool {
        guard enabled else { return false }
        return sd_notify(0, state) > 0
    }

    public func status(_ text: String) { send("STATUS=\(text)") }

    /// During a long load: progress in STATUS, and more start-up time asked for.
    public func loadingProgress(done: Int, total: Int, nowMs: Int64) {
        guard enabled, nowMs - lastProgressMs >= 1000 else { return }
        lastProgressMs = nowMs
        let pct = total > 0 ? done * 100 / total : 0
        send("STATUS=Loading the dataset: \(pct)%\nEXTEND_TIMEOUT_USEC=10000000")
        watchdog(nowMs: nowMs)
    }

    public func ready(status text: String) {
        send("READY=1\nSTATUS=\(text)\nMAINPID=\(getpid())")
    }

    public func reloading() { send("RELOADING=1\nSTATUS=Reloading the configuration") }

    public func stopping() { send("STOPPING=1\nSTATUS=Shutting down") }

    /// From the loop's cron: a WATCHDOG=1 every half interval while the loop runs.
    public func watchdog(nowMs: Int64) {
        guard watchdogIntervalMs > 0, nowMs - lastWatchdogMs >= watchdogIntervalMs else { return }
        lastWatchdogMs = nowMs
        send("WATCHDOG=1")
    }
}
