// `tessera-server --check-rdb FILE` and `--check-aof PATH [--fix]`: what
// redis-check-rdb and redis-check-aof do, for Tessera's (and Redis's) files.
// The RDB is loaded completely (every value decoded, checksum verified); an
// AOF is walked file by file in manifest order, and a torn tail of the last
// file can be cut off with --fix. Output goes to stdout; the exit code is 0
// when the files are valid (or were fixed).

import Glibc
import Engine

public enum FileChecker {
    public static func checkRDB(_ path: String, print out: (String) -> Void) -> Int32 {
        let engine = ShardEngine(config: Config())
        do {
            guard let bytes = try FileIO.readFile(path) else {
                out("Cannot check RDB: \(path) does not exist")
                return 1
            }
            out("[offset 0] Checking RDB file \(path)")
            let r = try RDBLoader.load(bytes, into: engine, options: RDBLoadOptions())
            var expires = 0
            for db in engine.databases { expires += db.expiresCount }
            if let v = r.aux["redis-ver"] { out("[offset \(r.bytesConsumed)] AUX redis-ver = '\(v)'") }
            out("[offset \(r.bytesConsumed)] Checksum OK")
            out("[offset \(r.bytesConsumed)] RDB looks OK (RDB version \(r.rdbVersion))")
            out("[info] \(r.keysLoaded + r.keysExpired) keys read")
            out("[info] \(expires) expires")
            out("[info] \(r.keysExpired) already expired")
            return 0
        } catch {
            out("--- RDB ERROR DETECTED ---")
            out("[file] \(path)")
            out("[error] \(error)")
            return 1
        }
    }

    /// PATH is a manifest, an AOF directory (its manifest is used) or one AOF file.
    public static func checkAOF(_ path: String, fix: Bool, print out: (String) -> Void) -> Int32 {
        var st = stat()
        guard stat(path, &st) == 0 else { out("Cannot check AOF: \(path) does not exist"); return 1 }
        var dir = ".", files: [String] = []
        do {
            if (st.st_mode & S_IFMT) == S_IFDIR {
                dir = path
                guard let m = try manifest(inDirectory: path) else { out("No AOF manifest in \(path)"); return 1 }
                files = names(of: m)
            } else if path.hasSuffix(".manifest") {
                dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
                let text = String(decoding: try FileIO.readFile(path) ?? [], as: UTF8.self)
                files = names(of: try AOFManifest.parse(text))
            } else {
                dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
                files = [String(path.split(separator: "/").last!)]
            }
        } catch {
            out("Invalid AOF manifest \(path): \(error)")
            return 1
        }
        let engine = ShardEngine(config: Config())
        for (i, name) in files.enumerated() {
            let p = dir + "/" + name
            let isLast = i == files.count - 1
            do {
                let r = try AOFLoader.scan(path: p, engine: engine, progress: nil) { _, _ in }
                out("AOF analyzed: filename=\(name), size=\(r.totalBytes), ok_up_to=\(r.validBytes), diff=\(r.totalBytes - r.validBytes)")
                guard r.truncated else {
                    out("AOF \(name) is valid (\(r.rdbPreamble ? "RDB preamble + " : "")\(r.commands) commands)")
                    continue
                }
                if r.revertedMulti { out("AOF \(name) ends inside a MULTI without its EXEC") }
                guard isLast else {
                    out("AOF \(name) is truncated but is not the last file of the manifest: cannot fix")
                    return 1
                }
                guard fix else {
                    out("AOF \(name) is not valid. Use the --fix option to try fixing it.")
                    return 1
                }
                if truncate(p, off_t(r.validBytes)) != 0 {
                    out("Failed to truncate AOF \(name): \(IOFailure.text(errno))")
                    return 1
                }
                out("Successfully truncated AOF \(name) to \(r.validBytes) bytes")
            } catch {
                out("AOF \(name) format error: \(error)")
                return 1
            }
        }
        return 0
    }

    static func manifest(inDirectory d: String) throws -> AOFManifest? {
        guard let dp = opendir(d) else { return nil }
        defer { closedir(dp) }
        while let ent = readdir(dp) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name.hasSuffix(".manifest") && !name.hasPrefix("temp-") {
                return try AOFManifest.parse(String(decoding: try FileIO.readFile(d + "/" + name) ?? [], as: UTF8.self))
            }
        }
        return nil
    }

    static func names(of m: AOFManifest) -> [String] {
        (m.base.map { [$0.name] } ?? []) + m.incrs.map(\.name)
    }
}
