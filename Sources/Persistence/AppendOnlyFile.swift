// The append-only file of one shard in Redis 7.0's multi-part layout
// (`appenddirname`/: a base file, incremental files, a manifest): feeding
// propagated writes into a buffer, writing it before replies leave,
// fsync per `appendfsync`, rewrites in a forked child, loading at startup,
// and turning the AOF on or off at runtime.
//
// Durability rule: with `appendfsync always`, a client's reply to a write
// leaves only after that write was written and fsynced. If the disk fails,
// those replies are held (not sent) until a retry succeeds, writes are
// refused with MISCONF meanwhile, and the server keeps running; Redis exits
// in that case instead.

import Glibc
import CShims
import Engine
import Logging

public final class AppendOnlyFile: WriteStreamConsumer {
    enum State { case off, on, waitRewrite }
    unowned let engine: ShardEngine
    unowned(unsafe) var owner: Persistence! = nil
    var logger: Logger { engine.logger }
    var config: Config { engine.config }

    var state = State.off
    var fd: Int32 = -1
    var out = AOFCommandBuffer()
    var selectedDB = -1
    var manifest = AOFManifest()
    /// aof_current_size, aof_base_size (size after the last rewrite), and the
    /// size of the incr file being appended to (the point to cut a short write back to).
    var currentSize = 0, baseSize = 0, incrSize = 0
    var unsyncedSince: Int64 = 0
    var writeErrno: Int32? = nil { didSet { reportFailure() } }
    var rewriteScheduled = false
    var lastRewriteOK = true
    var rewrites = 0, consecutiveFailures = 0, lastRewriteSeconds = -1, lastCowBytes = 0
    var flushPostponedStartMs: Int64 = 0
    var delayedFsync = 0
    var lastFsyncMs: Int64 = 0
    let fsyncer = BackgroundFsync()
    /// appendfsync always: clients whose commands fed the stream since the
    /// last flush, and clients whose replies are held because their writes are
    /// not on disk yet (a failed fsync). The AOF is the one owner of this
    /// state; `Client.replyHeld` is what the loop reads.
    var unsyncedClients: [Client] = []
    var heldClients: [Client] = []
    var lastErrorLogMs: Int64 = 0

    init(engine: ShardEngine) { self.engine = engine }

    /// Bytes held by the AOF buffer while the AOF is on (mem_not_counted_for_evict).
    var bufferAllocatedBytes: Int {
        state == .off || out.bytes.capacity == 0 ? 0 : 32 + out.bytes.capacity
    }

    var prefix: String { config.get("appendfilename")! }
    var dirname: String { config.get("appenddirname")! }
    func path(_ name: String) -> String { dirname + "/" + name }
    var manifestPath: String { path(AOFManifest.manifestName(prefix)) }
    var tempIncrName: String { "temp-\(prefix).incr" }
    var policy: Config.AppendFsync { config.appendfsync }
    /// Records the current write or fsync error where the engine refuses writes with it.
    func reportFailure() {
        var text: String? = nil
        if state != .off, let e = writeErrno ?? fsyncer.lastError {
            text = "MISCONF Errors writing to the AOF file: \(IOFailure.text(e))"
        }
        if engine.diskErrors.aofFailure != text { engine.diskErrors.aofFailure = text }
    }

    // MARK: feeding (Redis's feedAppendOnlyFile)

    func installSink() {
        engine.writeStream.add(self)
        timestamps = config.get("aof-timestamp-enabled") == "yes"
    }
    var timestamps = false
    var lastTimestampSec: Int64 = 0

    /// A command of `c` fed the stream: with appendfsync always its reply
    /// waits if the flush before replies cannot make the write durable.
    public func fed(by c: Client) {
        if policy == .always && unsyncedClients.last !== c { unsyncedClients.append(c) }
    }

    public func feed(_ p: PropagatedCommand) {
        // While waiting for the first rewrite, only writes after its fork matter.
        if state == .waitRewrite && owner.child?.kind != .aof { return }
        if timestamps {
            // aof-timestamp-enabled: a "#TS:<unix time>" annotation whenever the second changes.
            let sec = ShardEngine.wallClockMs() / 1000
            if sec != lastTimestampSec {
                lastTimestampSec = sec
                out.bytes.append(contentsOf: Array("#TS:\(sec)\r\n".utf8))
            }
        }
        if p.db != selectedDB {
            out.command([Array("SELECT".utf8), decimalBytes(Int64(p.db))])
            selectedDB = p.db
        }
        out.command(p.argv)
    }

    // MARK: writing (Redis's flushAppendOnlyFile)

    /// Runs before the loop writes replies: the AOF buffer goes to the file first.
    func beforeReplies() {
        guard state != .off else { return }
        flush(force: false)
    }

    func flush(force: Bool) {
        let now = ShardEngine.wallClockMs()
        let clients = unsyncedClients
        if !clients.isEmpty { unsyncedClients.removeAll(keepingCapacity: true) }
        if out.bytes.isEmpty {
            // Everysec: data written earlier may still need its fsync.
            if policy == .everysec && unsyncedSince != 0 && now - lastFsyncMs >= 1000 && !fsyncer.inProgress {
                fsyncEverysec(now)
            }
            return
        }
        if policy == .everysec && !force && fsyncer.inProgress {
            // The disk is slow: postpone the write up to 2 s rather than block on it.
            if flushPostponedStartMs == 0 { flushPostponedStartMs = now; holdIfAlways(clients); return }
            if now - flushPostponedStartMs < 2000 { return }
            delayedFsync += 1
            logger.notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down Tessera.")
        }
        flushPostponedStartMs = 0
        let count = out.bytes.count
        let monitor = engine.latencyMonitorEnabled
        let writeStart = monitor ? ShardEngine.wallClockUs() : 0
        let n = out.bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, count) }
        if monitor {
            // Redis's event names: the write classified by what else hit the disk meanwhile.
            let ms = (ShardEngine.wallClockUs() - writeStart) / 1000
            let event = fsyncer.inProgress ? "aof-write-pending-fsync" : (owner.child != nil ? "aof-write-active-child" : "aof-write-alone")
            engine.latencyAddSample(event, ms)
            engine.latencyAddSample("aof-write", ms)
        }
        if n != count {
            var written = n
            let err: Int32 = n < 0 ? ts_errno() : ENOSPC
            if n > 0 {
                // Take the partial write back so the file ends on a whole command.
                if ftruncate(fd, off_t(incrSize)) == 0 { written = -1 }
            }
            if now - lastErrorLogMs > 30_000 {
                lastErrorLogMs = now
                if n < 0 { logger.warning("Error writing to the AOF file: \(IOFailure.text(err))") }
                else { logger.warning("Short write while writing to the AOF file: (nwritten=\(n), expected=\(count))") }
            }
            if written > 0 {
                out.bytes.removeFirst(written)
                currentSize += written
                incrSize += written
            }
            writeErrno = err
            holdIfAlways(clients)
            return
        }
        if writeErrno != nil {
            logger.warning("AOF write error looks solved, Tessera can write again.")
            writeErrno = nil
        }
        currentSize += n
        incrSize += n
        if unsyncedSince == 0 { unsyncedSince = now }
        if out.bytes.count > 64 * 1024 { out.bytes = [] } else { out.bytes.removeAll(keepingCapacity: true) }

        if config.get("no-appendfsync-on-rewrite") == "yes" && owner.child != nil { releaseHeld(); return }
        switch policy {
        case .always:
            let syncStart = monitor ? ShardEngine.wallClockUs() : 0
            let synced = fdatasync(fd)
            if monitor { engine.latencyAddSample("aof-fsync-always", (ShardEngine.wallClockUs() - syncStart) / 1000) }
            if synced != 0 {
                let e = ts_errno()
                logger.warning("Can't persist AOF for fsync error when the AOF fsync policy is 'always': \(IOFailure.text(e)).")
                writeErrno = e
                holdIfAlways(clients)
                return
            }
            unsyncedSince = 0
            lastFsyncMs = now
            releaseHeld()
        case .everysec:
            if now - lastFsyncMs >= 1000 && !fsyncer.inProgress { fsyncEverysec(now) }
        case .no:
            break
        }
    }

    private func fsyncEverysec(_ now: Int64) {
        fsyncer.request(fd)
        lastFsyncMs = now
        unsyncedSince = 0
    }

    private func holdIfAlways(_ clients: [Client]) {
        guard policy == .always else { return }
        for c in clients where !c.replyHeld {
            c.replyHeld = true
            heldClients.append(c)
        }
    }

    private func releaseHeld() {
        if heldClients.isEmpty { return }
        for c in heldClients {
            c.replyHeld = false
            engine.host?.clientHasOutput(c)
        }
        heldClients.removeAll()
    }

    /// From the cron: retry a failed write, pick up background fsync errors.
    func cronFsync() {
        guard state != .off else { return }
        if writeErrno != nil || !heldClients.isEmpty { flush(force: true) }
        else if policy == .everysec { flush(force: false) }
        reportFailure()   // the background fsync's error, if any
    }

    func flushForShutdown() {
        guard state != .off else { return }
        flush(force: true)
        fsyncer.drain()
        _ = fdatasync(fd)
    }

    // MARK: files and manifest

    func ensureDirectory() throws {
        if mkdir(dirname, 0o755) != 0 && ts_errno() != EEXIST { throw IOFailure("mkdir \(dirname)") }
    }

    func readManifest() throws -> AOFManifest? {
        guard let bytes = try FileIO.readFile(manifestPath) else { return nil }
        return try AOFManifest.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Writes `m` as the manifest through a temp file and a rename.
    func persistManifest(_ m: AOFManifest) throws {
        try FileIO.replaceAtomically(manifestPath, via: path("temp-" + AOFManifest.manifestName(prefix))) { fd in
            try FileIO.writeAll(fd, Array(m.text.utf8), what: "AOF manifest")
        }
    }

    /// Opens `name` in the AOF directory for appending and makes it the current file.
    func switchTo(file name: String) throws {
        let f = open(path(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if f < 0 { throw IOFailure("open \(path(name))") }
        if fd >= 0 { fsyncer.drain(); _ = fdatasync(fd); close(fd) }
        fd = f
        incrSize = FileIO.fileSize(path(name)) ?? 0
        selectedDB = -1
    }

    func deleteHistory() {
        for h in manifest.history { unlink(path(h.name)) }
        manifest.history = []
    }

    func sizeOfFiles(_ m: AOFManifest) -> (base: Int, total: Int) {
        let base = m.base.flatMap { FileIO.fileSize(path($0.name)) } ?? 0
        var total = base
        for i in m.incrs { total += FileIO.fileSize(path(i.name)) ?? 0 }
        return (base, total)
    }

    // MARK: loading

    /// Startup with appendonly yes: load the files, then open the AOF for appending.
    func loadAtStartup() -> Bool {
        do {
            try ensureDirectory()
            if let m = try readManifest() {
                manifest = m
            } else if FileIO.exists(prefix) {
                // A single-file AOF of Redis < 7 in `dir`: it becomes the base, as Redis upgrades it.
                try FileIO.rename(prefix, path(prefix))
                manifest = AOFManifest()
                manifest.base = AOFFileInfo(name: prefix, seq: 1, kind: .base)
                manifest.baseSeq = 1
                logger.notice("Moving the old AOF file \(prefix) into \(dirname) as the base of the new layout")
            }
            let start = ShardEngine.wallClockMs()
            if manifest.base != nil || !manifest.incrs.isEmpty {
                let keys = try loadFiles(serveWhileLoading: true)
                logger.notice("DB loaded from append only file: \(formatSeconds(ShardEngine.wallClockMs() - start)) seconds (\(keys) keys)")
            }
            engine.dirty = 0
            try openAfterLoad()
        } catch {
            logger.critical("Fatal error loading the append only file: \(error). Exiting.")
            return false
        }
        state = .on
        installSink()
        return true
    }

    /// Replays base and incr files in manifest order. Returns the key count.
    @discardableResult
    func loadFiles(serveWhileLoading: Bool) throws -> Int {
        var files: [AOFFileInfo] = []
        if let b = manifest.base { files.append(b) }
        files += manifest.incrs
        let client = engine.makeReplayClient()
        engine.writeStream.suspend()
        defer { engine.writeStream.resume() }
        owner.beginLoading(totalBytes: files.reduce(0) { $0 + (FileIO.fileSize(path($1.name)) ?? 0) })
        defer { owner.endLoading() }
        let progress: ((Int, Int) -> Void)? = serveWhileLoading ? { [unowned self] d, t in self.owner.loadingProgress(d, t) } : nil
        for (i, f) in files.enumerated() {
            let p = path(f.name)
            guard FileIO.exists(p) else { throw AOFFormatError(description: "The AOF file \(f.name) doesn't exist") }
            let r = try AOFLoader.load(path: p, engine: engine, client: client, progress: progress)
            if r.totalBytes == 0 { continue }
            if r.truncated {
                let isLast = i == files.count - 1
                if r.revertedMulti { logger.warning("Revert incomplete MULTI/EXEC transaction in AOF file \(f.name)") }
                guard isLast else {
                    throw AOFFormatError(description: "Unexpected end of file reading the append only file \(f.name), which is not the last file of the manifest")
                }
                guard config.get("aof-load-truncated") == "yes" else {
                    throw AOFFormatError(description: "Unexpected end of file reading the append only file \(f.name). You can: 1) Make a backup of your AOF file, then use tessera-server --check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.")
                }
                logger.warning("!!! Warning: short read while loading the AOF file \(f.name)!!!")
                logger.warning("!!! Truncating the AOF \(f.name) at offset \(r.validBytes) !!!")
                if truncate(p, off_t(r.validBytes)) != 0 {
                    throw IOFailure("truncate \(p)")
                }
                logger.warning("AOF \(f.name) loaded anyway because aof-load-truncated is enabled")
            }
        }
        var keys = 0
        for db in engine.databases { keys += db.count }
        return keys
    }

    /// After loading: make sure a base exists (Redis writes one for an empty
    /// start), open the last incr file (or a new one), persist the manifest.
    func openAfterLoad() throws {
        if manifest.base == nil && manifest.incrs.isEmpty {
            let rdb = config.aofUseRDBPreamble
            var m = manifest
            let name = m.newBase(prefix: prefix, rdb: rdb)
            try writeBase(to: path(name), rdbPreamble: rdb)
            manifest = m
            logger.notice("Creating AOF base file \(name) on server start")
        }
        if manifest.incrs.isEmpty {
            var m = manifest
            let name = m.newIncr(prefix: prefix)
            try switchTo(file: name)
            manifest = m
            logger.notice("Creating AOF incr file \(name) on server start")
        } else {
            try switchTo(file: manifest.incrs.last!.name)
        }
        try persistManifest(manifest)
        deleteHistory()
        let sizes = sizeOfFiles(manifest)
        baseSize = sizes.base
        currentSize = sizes.total
    }

    /// Writes the dataset as a base file (RDB preamble or commands), fsynced.
    func writeBase(to p: String, rdbPreamble: Bool) throws {
        let f = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if f < 0 { throw IOFailure("open \(p)") }
        defer { close(f) }
        if rdbPreamble {
            var o = owner.rdbOptions
            o.aofBase = true
            try RDBFile.write(engine, to: f, options: o)
        } else {
            try AOFRewrite.writeCommands(engine, to: f)
        }
        try FileIO.fsyncOrThrow(f, what: p)
    }

    // MARK: rewriting (Redis's rewriteAppendOnlyFileBackground)

    func bgrewriteaofCommand(_ c: Client) {
        if owner.child?.kind == .aof {
            c.error(static: "ERR Background append only file rewriting already in progress")
        } else if owner.child != nil || engine.callDepth > 1 {
            rewriteScheduled = true
            consecutiveFailures = 0
            c.reply.simple("Background append only file rewriting scheduled")
        } else if startRewrite() {
            c.reply.simple("Background append only file rewriting started")
        } else {
            c.error(static: "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.")
        }
    }

    /// Starts a new incr file for the writes from now on, then forks a child
    /// that writes the dataset as the next base.
    func startRewrite() -> Bool {
        guard owner.child == nil else { return false }
        rewriteScheduled = false
        do {
            try ensureDirectory()
            if state == .on {
                flush(force: true)
                var m = manifest
                let name = m.newIncr(prefix: prefix)
                try switchTo(file: name)
                try persistManifest(m)
                manifest = m
            } else {
                // Turning the AOF on: writes during the rewrite go to a temp incr file.
                unlink(path(tempIncrName))
                try switchTo(file: tempIncrName)
            }
        } catch {
            logger.warning("Can't open a new AOF incr file for the rewrite: \(error)")
            return false
        }
        let rdb = config.aofUseRDBPreamble
        rewrites += 1
        do {
            let c = try owner.forkChild(.aof, name: "AOF rewrite") { [unowned self] in
                try self.writeBase(to: ChildTempFile.aofRewrite.name(getpid()), rdbPreamble: rdb)
            }
            logger.notice("Background append only file rewriting started by pid \(c.pid)")
            return true
        } catch {
            logger.warning("Can't rewrite append only file in background: \(error)")
            lastRewriteOK = false
            return false
        }
    }

    func rewriteChildDone(_ c: BackgroundChild, _ outcome: BackgroundChild.Outcome) {
        lastCowBytes = c.cowBytes
        lastRewriteSeconds = Int((ShardEngine.wallClockMs() - c.startMs) / 1000)
        let temp = ChildTempFile.aofRewrite.name(c.pid)
        guard case .exited(0) = outcome else {
            unlink(temp)
            lastRewriteOK = false
            consecutiveFailures += 1
            logger.warning("Background AOF rewrite terminated with error")
            if state == .waitRewrite { rewriteScheduled = true }
            return
        }
        do {
            let rdb = config.aofUseRDBPreamble
            var m = manifest
            let baseName = m.newBase(prefix: prefix, rdb: rdb)
            try FileIO.rename(temp, path(baseName))
            if state == .waitRewrite {
                for f in m.incrs { m.history.append(AOFFileInfo(name: f.name, seq: f.seq, kind: .history)) }
                m.incrs = []
                let incrName = m.newIncr(prefix: prefix)
                try FileIO.rename(path(tempIncrName), path(incrName))
            } else {
                m.retireIncrsBeforeLast()
            }
            var durable = m
            durable.history = []
            try persistManifest(durable)
            manifest = m
            deleteHistory()
        } catch {
            unlink(temp)
            lastRewriteOK = false
            consecutiveFailures += 1
            logger.warning("Background AOF rewrite finished but its files could not be installed: \(error)")
            if state == .waitRewrite { rewriteScheduled = true }
            return
        }
        if state == .waitRewrite {
            state = .on
            logger.notice("AOF rewrite done: the append only file is now on")
        }
        let sizes = sizeOfFiles(manifest)
        baseSize = sizes.base
        currentSize = sizes.total
        lastRewriteOK = true
        consecutiveFailures = 0
        logger.notice("Background AOF rewrite finished successfully")
    }

    func rewriteChildKilled(_ c: BackgroundChild) {
        unlink(ChildTempFile.aofRewrite.name(c.pid))
    }

    /// Auto rewrite on growth and scheduled rewrites (from the cron, no child running).
    func cron() {
        guard state != .off else { return }
        if rewriteScheduled { _ = startRewrite(); return }
        guard state == .on else { return }
        let perc = Int(config.get("auto-aof-rewrite-percentage")!) ?? 0
        let minSize = Int(config.get("auto-aof-rewrite-min-size")!) ?? 0
        if perc > 0 && currentSize > minSize {
            let base = max(baseSize, 1)
            let growth = currentSize * 100 / base - 100
            if growth >= perc {
                logger.notice("Starting automatic rewriting of AOF on \(growth)% growth")
                _ = startRewrite()
            }
        }
    }

    /// The dataset was replaced (a replica's full sync): the AOF is rewritten
    /// from it, as Redis restarts the AOF after a sync.
    func restartAfterNewDataset() {
        guard state != .off else { return }
        if owner.child != nil { rewriteScheduled = true } else { _ = startRewrite() }
    }

    // MARK: runtime on/off (CONFIG SET appendonly)

    func appendonlyChanged() -> String? {
        let wanted = config.get("appendonly") == "yes"
        if wanted && state == .off {
            do { try ensureDirectory() } catch {
                logger.warning("Can't create the AOF directory: \(error)")
                return "Unable to turn on AOF. Check server logs."
            }
            state = .waitRewrite
            installSink()
            if owner.child != nil {
                rewriteScheduled = true
                logger.warning("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.")
            } else if !startRewrite() {
                state = .off
                engine.writeStream.remove(self)
                return "Unable to turn on AOF. Check server logs."
            }
        } else if !wanted && state != .off {
            flush(force: true)
            fsyncer.drain()
            if fd >= 0 { _ = fdatasync(fd); close(fd); fd = -1 }
            if owner.child?.kind == .aof { owner.killChild() }
            state = .off
            engine.writeStream.remove(self)
            unsyncedClients.removeAll()
            writeErrno = nil
            releaseHeld()
        } else if state != .off {
            installSink()
        }
        return nil
    }

    // MARK: DEBUG LOADAOF

    func debugLoadAOF(_ c: Client) {
        if state != .off { flush(force: true); fsyncer.drain(); _ = fdatasync(fd) }
        engine.flushAll()
        do {
            if let m = try readManifest() { manifest = m }
            try loadFiles(serveWhileLoading: false)
        } catch {
            logger.critical("Fatal error loading the AOF by DEBUG LOADAOF: \(error). Exiting.")
            exit(1)
        }
        engine.dirty = 0
        logger.warning("Append Only File loaded by DEBUG LOADAOF")
        c.reply.ok()
    }

    // MARK: INFO

    func infoFields(child: BackgroundChild?) -> [(String, String)] {
        let now = ShardEngine.wallClockMs()
        var f: [(String, String)] = [
            ("aof_enabled", state != .off ? "1" : "0"),
            ("aof_rewrite_in_progress", child?.kind == .aof ? "1" : "0"),
            ("aof_rewrite_scheduled", rewriteScheduled ? "1" : "0"),
            ("aof_last_rewrite_time_sec", String(lastRewriteSeconds)),
            ("aof_current_rewrite_time_sec", child?.kind == .aof ? String((now - child!.startMs) / 1000) : "-1"),
            ("aof_last_bgrewrite_status", lastRewriteOK ? "ok" : "err"),
            ("aof_rewrites", String(rewrites)),
            ("aof_rewrites_consecutive_failures", String(consecutiveFailures)),
            ("aof_last_write_status", writeErrno == nil && fsyncer.lastError == nil ? "ok" : "err"),
            ("aof_last_cow_size", String(lastCowBytes)),
        ]
        if state != .off {
            f += [("aof_current_size", String(currentSize)), ("aof_base_size", String(baseSize)),
                  ("aof_pending_rewrite", rewriteScheduled ? "1" : "0"), ("aof_buffer_length", String(out.bytes.count)),
                  ("aof_pending_bio_fsync", fsyncer.inProgress ? "1" : "0"), ("aof_delayed_fsync", String(delayedFsync))]
        }
        return f
    }
}
