// Memory figures for INFO memory and DEBUG: jemalloc's statistics (the
// process links jemalloc unprefixed, so it serves every allocation), the RSS
// from /proc and the machine's total memory.

import Glibc
import CJemalloc

public struct AllocatorStats {
    /// Bytes handed out to the program (Redis's used_memory).
    public var allocated = 0
    /// Bytes in active pages (allocated plus fragmentation inside them).
    public var active = 0
    /// Bytes of physically resident allocator pages.
    public var resident = 0
    /// Bytes of mapped allocator chunks.
    public var mapped = 0
    /// Bytes of allocator metadata.
    public var metadata = 0
}

public enum MemoryStats {
    /// Current jemalloc statistics (refreshes its stats epoch first).
    public static func allocator() -> AllocatorStats {
        var epoch: UInt64 = 1, current: UInt64 = 0
        var len = MemoryLayout<UInt64>.size
        _ = mallctl("epoch", &current, &len, &epoch, len)
        var s = AllocatorStats()
        s.allocated = readStat("stats.allocated")
        s.active = readStat("stats.active")
        s.resident = readStat("stats.resident")
        s.mapped = readStat("stats.mapped")
        s.metadata = readStat("stats.metadata")
        return s
    }

    private static func readStat(_ name: String) -> Int {
        var v = 0
        var len = MemoryLayout<Int>.size
        let rc = name.withCString { mallctl($0, &v, &len, nil, 0) }
        return rc == 0 ? v : 0
    }

    /// Resident set size of the process in bytes (second field of /proc/self/statm).
    public static func rss() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        if fd < 0 { return 0 }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 256)
        let n = Glibc.read(fd, &buf, 255)
        if n <= 0 { return 0 }
        let fields = buf[0..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let pages = Int(String(decoding: fields[1], as: UTF8.self)) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    public static func totalSystemMemory() -> Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// "1.04M"-style sizes, as Redis's bytesToHuman.
    public static func human(_ n: Int) -> String {
        let d = Double(n)
        func f(_ v: Double, _ unit: String) -> String { formatFixed(v, 2) + unit }
        if n < 1024 { return "\(n)B" }
        if n < 1024 * 1024 { return f(d / 1024, "K") }
        if n < 1024 * 1024 * 1024 { return f(d / (1024 * 1024), "M") }
        if Int64(n) < 1024 * 1024 * 1024 * 1024 { return f(d / (1024 * 1024 * 1024), "G") }
        if Int64(n) < 1024 * 1024 * 1024 * 1024 * 1024 { return f(d / (1024.0 * 1024 * 1024 * 1024), "T") }
        return f(d / (1024.0 * 1024 * 1024 * 1024 * 1024), "P")
    }
}

/// `v` with exactly `digits` decimals ("%.2f").
public func formatFixed(_ v: Double, _ digits: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([v]) { vsnprintf(&buf, 64, "%.\(digits)f", $0) }
    return String(cString: buf)
}
