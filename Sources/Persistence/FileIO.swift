// Small, errno-preserving wrappers over the file calls persistence needs.
// Every failure carries the errno text so logs and INFO can say why
// (ENOSPC "No space left on device", EACCES, EIO...).

import Glibc
import Engine
import CShims

public struct IOFailure: Error, CustomStringConvertible {
    public let operation: String
    public let errnoValue: Int32
    public var description: String { "\(operation): \(IOFailure.text(errnoValue))" }
    public static func text(_ e: Int32) -> String { String(cString: strerror(e)) }

    init(_ operation: String, errno e: Int32 = ts_errno()) {
        self.operation = operation
        self.errnoValue = e
    }
}

enum FileIO {
    /// Writes all `count` bytes, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int, what: String) throws {
        var done = 0
        while done < count {
            let n = Glibc.write(fd, p + done, count - done)
            if n < 0 {
                if ts_errno() == EINTR { continue }
                throw IOFailure("write \(what)")
            }
            if n == 0 { throw IOFailure("write \(what)", errno: ENOSPC) }
            done += n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        try bytes.withUnsafeBytes { if $0.count > 0 { try writeAll(fd, $0.baseAddress!, $0.count, what: what) } }
    }

    static func fsyncOrThrow(_ fd: Int32, what: String) throws {
        if fdatasync(fd) != 0 { throw IOFailure("fsync \(what)") }
    }

    /// Makes a rename or create durable: fsync of the directory holding `path`.
    static func fsyncDirectory(of path: String) {
        let dir: String
        if let slash = path.lastIndex(of: "/") { dir = slash == path.startIndex ? "/" : String(path[..<slash]) } else { dir = "." }
        let fd = open(dir, O_RDONLY)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Replaces `path` with what `write` puts into `tempName`: the temp file is
    /// fsynced, renamed over `path` and the directory fsynced, so a failure at
    /// any step leaves the old file in place (and no temp file behind).
    /// A background child whose shard died meanwhile never renames: a
    /// restarted shard may have written a newer file there.
    static func replaceAtomically(_ path: String, via tempName: String, _ write: (Int32) throws -> Void) throws {
        let fd = open(tempName, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOFailure("open \(tempName)") }
        do {
            defer { close(fd) }
            try write(fd)
            try fsyncOrThrow(fd, what: tempName)
        } catch {
            unlink(tempName)
            throw error
        }
        do {
            if ts_forking_parent_alive() == 0 {
                throw IOFailure("rename \(tempName) to \(path): the shard that forked this child is gone", errno: ESRCH)
            }
            try rename(tempName, path)
        } catch {
            unlink(tempName)
            throw error
        }
        fsyncDirectory(of: path)
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw IOFailure("rename \(from) to \(to)") }
    }

    /// An open descriptor of `path` and its size; nil if it does not exist.
    private static func openForReading(_ path: String) throws -> (fd: Int32, size: Int)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if ts_errno() == ENOENT { return nil }
            throw IOFailure("open \(path)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); throw IOFailure("stat \(path)") }
        return (fd, Int(st.st_size))
    }

    /// Maps `path` read-only for one sequential read (an RDB being loaded):
    /// nil if it does not exist. Parsed pages are given back with
    /// `RDBBytes.dropPages`, so the file never needs to be resident whole.
    static func mapFile(_ path: String) throws -> RDBBytes? {
        guard let (fd, size) = try openForReading(path) else { return nil }
        defer { close(fd) }
        if size == 0 { return RDBBytes([]) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw IOFailure("mmap \(path)")
        }
        _ = madvise(p, size, MADV_SEQUENTIAL)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var dropped = 0
        return RDBBytes(base: UnsafeRawPointer(p), count: size, release: { _ = munmap(p, size) }, drop: { offset in
            let end = offset / page * page
            if end - dropped >= 4 << 20 {
                _ = madvise(p + dropped, end - dropped, MADV_DONTNEED)
                dropped = end
            }
        })
    }

    /// The whole file, or nil (with errno) if it can't be opened or read.
    static func readFile(_ path: String) throws -> [UInt8]? {
        guard let (fd, size) = try openForReading(path) else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: size)
        var got = 0
        try out.withUnsafeMutableBytes { buf in
            while got < size {
                let n = read(fd, buf.baseAddress! + got, size - got)
                if n < 0 { if ts_errno() == EINTR { continue }; throw IOFailure("read \(path)") }
                if n == 0 { break }
                got += n
            }
        }
        if got < size { out.removeLast(size - got) }
        return out
    }

    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
