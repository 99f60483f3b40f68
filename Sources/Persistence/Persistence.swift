// The persistence layer of one shard (Redis's rdb.c + the persistence parts of
// server.c): SAVE/BGSAVE, save points, the final save at shutdown, DEBUG
// RELOAD, loading at startup, MISCONF when saves fail, INFO persistence.
// The AOF side lives in AppendOnlyFile.swift; this type ties both to the
// engine (PersistenceControl) and to the loop (a ShardStage: the cron, and
// the AOF flush before replies leave).

import Glibc
import CShims
import Engine
import Logging

/// Whoever waits for background saves (the replication layer's master side).
public protocol SnapshotObserver: AnyObject {
    /// A background save ended; `ok` if the RDB file is complete.
    func snapshotFinished(ok: Bool)
    /// The replication position to record in an RDB being written now.
    var replicationPosition: RDBReplicationInfo? { get }
}

public final class Persistence: PersistenceControl, ShardStage {
    public let engine: ShardEngine
    var logger: Logger { engine.logger }
    var config: Config { engine.config }

    var child: BackgroundChild? = nil
    /// `server.dirty` when the running BGSAVE forked: what a successful save covers.
    var dirtyAtFork: Int64 = 0
    var lastBgsaveOK: Bool {
        get { !engine.diskErrors.lastBgsaveFailed }
        set { engine.diskErrors.lastBgsaveFailed = !newValue }
    }
    var lastBgsaveTryMs: Int64 = 0
    var bgsaveScheduled = false
    var rdbSaves = 0
    var lastBgsaveSeconds = -1
    var lastRDBCowBytes = 0
    var lastLoadKeys = 0, lastLoadExpired = 0
    /// The replication position recorded in the RDB loaded at start-up, if any.
    public private(set) var loadedReplicationPosition: RDBReplicationInfo? = nil
    /// Keys that RDB held but had expired: the replicas still have them, so
    /// a master that continues its history propagates their DELs (taken once).
    public var expiredAtLoad: [(db: Int, key: [UInt8])] = []
    var loadingStartMs: Int64 = 0
    var loadingTotalBytes = 0, loadingDoneBytes = 0
    /// Retry delay after a failed BGSAVE from a save point (Redis's CONFIG_BGSAVE_RETRY_DELAY).
    static let bgsaveRetryDelayMs: Int64 = 5000

    public let aof: AppendOnlyFile

    public init(engine: ShardEngine) {
        self.engine = engine
        aof = AppendOnlyFile(engine: engine)
        aof.owner = self
        engine.persistence = self
        engine.addStage(self)
        // The AOF buffer does not count toward maxmemory (Redis's
        // freeMemoryGetNotCountedMemory): evicting keys would only grow it.
        engine.addMemoryNotCountedForEvict { [unowned self] in self.aof.bufferAllocatedBytes }
    }

    var rdbFilename: String { config.get("dbfilename")! }
    var rdbOptions: RDBSaveOptions {
        var o = RDBSaveOptions()
        o.compress = config.get("rdbcompression") != "no"
        o.checksum = config.get("rdbchecksum") != "no"
        o.keySaveDelayUs = max(0, Int(config.get("rdb-key-save-delay")!) ?? 0)
        o.incrementalFsync = config.get("rdb-save-incremental-fsync") != "no"
        o.replication = snapshotObserver?.replicationPosition
        return o
    }

    // MARK: startup

    /// Loads the dataset at startup: from the AOF when appendonly is on, else
    /// from the RDB file. Returns false (after logging why) if the server must not start.
    public func loadAtStartup() -> Bool {
        removeStaleTempFiles()
        if config.get("appendonly") == "yes" {
            return aof.loadAtStartup()
        }
        let start = ShardEngine.wallClockMs()
        do {
            guard let r = try loadRDB(rdbFilename, serveWhileLoading: true, collectExpiredKeys: true) else { return true }
            logger.notice("Done loading RDB, keys loaded: \(r.keysLoaded), keys expired: \(r.keysExpired).")
            logger.notice("DB loaded from disk: \(formatSeconds(ShardEngine.wallClockMs() - start)) seconds")
            return true
        } catch {
            logger.critical("Fatal error loading the DB: \(error). Exiting.")
            return false
        }
    }

    /// Removes what background children of an earlier run left in `dir`
    /// (their ChildTempFile names): a child killed with its shard never got
    /// to rename or delete them. A file whose process is still alive
    /// (another server on the same directory) is left alone.
    func removeStaleTempFiles() {
        guard let d = opendir(".") else { return }
        defer { closedir(d) }
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let pid = ChildTempFile.owner(of: name), pid != getpid(),
                  kill(pid, 0) != 0 && ts_errno() == ESRCH else { continue }
            if unlink(name) == 0 { logger.notice("Removed \(name), left by a background child that no longer runs") }
        }
    }

    /// Loads an RDB file into the current databases; nil if it does not exist.
    func loadRDB(_ path: String, serveWhileLoading: Bool, merge: Bool = false,
                 collectExpiredKeys: Bool = false) throws -> RDBLoadResult? {
        guard let bytes = try FileIO.mapFile(path) else { return nil }
        var opts = RDBLoadOptions()
        opts.allowDuplicates = merge
        opts.collectExpiredKeys = collectExpiredKeys
        if serveWhileLoading { opts.progress = { [unowned self] done, total in self.loadingProgress(done, total) } }
        beginLoading(totalBytes: bytes.count)
        defer { endLoading() }
        let r = try RDBLoader.load(bytes, into: engine, options: opts)
        if let v = r.aux["redis-ver"] { logger.notice("Loading RDB produced by version \(v)") }
        lastLoadKeys = r.keysLoaded
        loadedReplicationPosition = RDBReplicationInfo(aux: r.aux)
        if loadedReplicationPosition != nil { expiredAtLoad = r.expiredKeys }
        lastLoadExpired = r.keysExpired
        engine.stats.expiredKeys += r.keysExpired
        return r
    }

    func beginLoading(totalBytes: Int) {
        engine.loading = true
        loadingStartMs = ShardEngine.wallClockMs()
        loadingTotalBytes = totalBytes
        loadingDoneBytes = 0
    }

    func endLoading() {
        engine.loading = false
        engine.updateClock()
    }

    func loadingProgress(_ done: Int, _ total: Int) {
        loadingDoneBytes = done
        onLoadingProgress?(done, total)
        engine.host?.serveClientsWhileBlocked()
    }

    /// Called every few thousand keys while loading (systemd STATUS / EXTEND_TIMEOUT_USEC).
    public var onLoadingProgress: ((_ done: Int, _ total: Int) -> Void)? = nil

    // MARK: RDB saving

    /// Writes the dataset to `path` through a temp file, fsync and an atomic
    /// rename: a failure never replaces a good file. Throws with the reason.
    func writeSnapshot(to path: String, tempName: String) throws {
        try FileIO.replaceAtomically(path, via: tempName) { fd in
            try RDBFile.write(engine, to: fd, options: rdbOptions)
        }
    }

    /// SAVE and the final save at shutdown (Redis's rdbSave).
    func saveSync() -> Bool {
        let start = ShardEngine.wallClockMs()
        do {
            try writeSnapshot(to: rdbFilename, tempName: ChildTempFile.rdb.name(getpid()))
        } catch {
            // As Redis: a failed synchronous save leaves rdb_last_bgsave_status alone.
            logger.warning("Write error saving DB on disk: \(error)")
            return false
        }
        logger.notice("DB saved on disk")
        engine.dirty = 0
        engine.lastSaveTime = ShardEngine.wallClockMs() / 1000
        lastBgsaveOK = true
        lastBgsaveSeconds = Int((ShardEngine.wallClockMs() - start) / 1000)
        return true
    }

    /// Forks a child that writes the snapshot (Redis's rdbSaveBackground).
    func bgsave() -> Bool {
        if child != nil { return false }
        lastBgsaveTryMs = ShardEngine.wallClockMs()
        dirtyAtFork = engine.dirty
        rdbSaves += 1
        let path = rdbFilename
        do {
            let c = try forkChild(.rdb, name: "BGSAVE") { [unowned self] in
                try self.writeSnapshot(to: path, tempName: ChildTempFile.rdb.name(getpid()))
            }
            logger.notice("Background saving started by pid \(c.pid)")
            return true
        } catch {
            lastBgsaveOK = false
            logger.warning("Can't save in background: \(error)")
            return false
        }
    }

    /// Forks a child running `work` (exit code 0 when it succeeds, 1 with one
    /// line on stderr when it throws: the child must not use the parent's
    /// logger), makes it the running child and records the fork's cost.
    func forkChild(_ kind: ChildKind, name: String, work: @escaping () throws -> Void) throws -> BackgroundChild {
        let (c, forkUs) = try Fork.start(kind: kind, engine: engine) {
            do {
                try work()
                return 0
            } catch {
                let line = Array("Tessera \(name) child: \(error)\n".utf8)
                _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
                return 1
            }
        }
        child = c
        engine.stats.totalForks += 1
        engine.stats.latestForkUsec = Int(forkUs)
        engine.latencyAddSample("fork", Int64(forkUs) / 1000)
        return c
    }

    /// Reaps a finished child and records its outcome (Redis's checkChildrenDone).
    func checkChild() {
        guard let c = child else { return }
        let outcome = c.poll()
        if case .running = outcome { return }
        child = nil
        switch c.kind {
        case .rdb: rdbChildDone(c, outcome)
        case .aof: aof.rewriteChildDone(c, outcome)
        }
    }

    func rdbChildDone(_ c: BackgroundChild, _ outcome: BackgroundChild.Outcome) {
        lastRDBCowBytes = c.cowBytes
        if snapshotToPipe {
            snapshotToPipe = false
            if case .exited(0) = outcome {
                logger.notice("Background RDB transfer terminated with success")
                snapshotObserver?.snapshotFinished(ok: true)
            } else {
                logger.warning("Background RDB transfer error")
                snapshotObserver?.snapshotFinished(ok: false)
            }
            return
        }
        lastBgsaveSeconds = Int((ShardEngine.wallClockMs() - c.startMs) / 1000)
        switch outcome {
        case .exited(0):
            logger.notice("Background saving terminated with success")
            engine.dirty -= dirtyAtFork
            engine.lastSaveTime = ShardEngine.wallClockMs() / 1000
            lastBgsaveOK = true
            snapshotObserver?.snapshotFinished(ok: true)
            return
        case .exited:
            logger.warning("Background saving error")
            lastBgsaveOK = false
        case .signaled(let sig):
            logger.warning("Background saving terminated by signal \(sig)")
            unlink(ChildTempFile.rdb.name(c.pid))
            lastBgsaveOK = false
        case .running:
            return
        }
        snapshotObserver?.snapshotFinished(ok: false)
    }

    // MARK: replication

    /// True while a BGSAVE or AOF rewrite child runs.
    public var childRunning: Bool { child != nil }

    /// The RDB file, relative to the working directory (`dir`).
    public var rdbPath: String { rdbFilename }

    /// Told when a background save ends (a master sends the file to replicas).
    public weak var snapshotObserver: SnapshotObserver? = nil

    /// Starts a background save for replicas waiting for a full sync (Redis
    /// saves to the same file as BGSAVE). False if a child runs or the fork failed.
    public func bgsaveForReplication() -> Bool {
        child == nil && bgsave()
    }

    /// Starts a save streamed into a pipe (diskless replication): returns the
    /// pipe's read end (non-blocking), or nil if a child runs or the fork
    /// failed. The file-based save's bookkeeping (dirty, LASTSAVE) is untouched.
    public func bgsaveToPipe() -> Int32? {
        guard child == nil else { return nil }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        for f in fds { _ = fcntl(f, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        var options = rdbOptions
        options.incrementalFsync = false
        do {
            let c = try forkChild(.rdb, name: "diskless SYNC") { [unowned self] in
                close(fds[0])
                try RDBFile.write(self.engine, to: fds[1], options: options)
                close(fds[1])
            }
            close(fds[1])
            snapshotToPipe = true
            logger.notice("Background RDB transfer started by pid \(c.pid)")
            return fds[0]
        } catch {
            close(fds[0]); close(fds[1])
            logger.warning("Can't start the diskless transfer: \(error)")
            return nil
        }
    }

    /// The running child streams to replicas instead of writing the RDB file.
    var snapshotToPipe = false

    /// Replaces the dataset with the RDB file a master sent (a replica's full
    /// sync), then keeps the file as this server's RDB. A running child is
    /// stopped first; the AOF is rewritten from the new dataset.
    public func loadFromMaster(rdbAt path: String) throws -> RDBLoadResult {
        if child != nil { killChild() }
        engine.flushAll(async: config.get("replica-lazy-flush") == "yes")
        let r = try loadRDB(path, serveWhileLoading: true) ?? RDBLoadResult()
        if rename(path, rdbFilename) != 0 {
            logger.warning("Failed trying to rename the temp DB into \(rdbFilename) in MASTER <-> REPLICA synchronization: \(IOFailure.text(ts_errno()))")
        }
        engine.dirty = 0
        aof.restartAfterNewDataset()
        return r
    }

    /// Stops a running child whose output is no longer wanted.
    func killChild() {
        guard let c = child else { return }
        c.kill()
        child = nil
        if c.kind == .rdb {
            let start = engine.latencyMonitorEnabled ? ShardEngine.wallClockUs() : 0
            unlink(ChildTempFile.rdb.name(c.pid))
            if start != 0 { engine.latencyAddSample("rdb-unlink-temp-file", (ShardEngine.wallClockUs() - start) / 1000) }
            snapshotToPipe = false
            // Replicas waiting for this save must not wait forever.
            snapshotObserver?.snapshotFinished(ok: false)
        } else { aof.rewriteChildKilled(c) }
    }

    /// MISCONF: writes are refused while the last save failed (with save points
    /// and stop-writes-on-bgsave-error on), or while the AOF can't be written.
    // MARK: cron

    public func cron() {
        let now = ShardEngine.wallClockMs()
        if child != nil {
            checkChild()
        }
        if child == nil {
            if bgsaveScheduled {
                bgsaveScheduled = false
                _ = bgsave()
            } else {
                for p in config.savePoints where engine.dirty >= p.changes && now / 1000 - engine.lastSaveTime > p.seconds
                    && (lastBgsaveOK || now - lastBgsaveTryMs > Persistence.bgsaveRetryDelayMs) {
                    logger.notice("\(p.changes) changes in \(p.seconds) seconds. Saving...")
                    _ = bgsave()
                    break
                }
            }
        }
        if child == nil { aof.cron() }
        aof.cronFsync()
    }

    // MARK: PersistenceControl

    public func saveCommand(_ c: Client) {
        if child?.kind == .rdb { c.error(static: "ERR Background save already in progress"); return }
        rdbSaves += 1
        if saveSync() { c.reply.ok() } else { c.error(static: "ERR") }
    }

    public func bgsaveCommand(_ c: Client, schedule: Bool) {
        if child?.kind == .rdb {
            c.error(static: "ERR Background save already in progress")
        } else if child != nil || engine.callDepth > 1 {
            if schedule || engine.callDepth > 1 {
                bgsaveScheduled = true
                c.reply.simple("Background saving scheduled")
            } else {
                c.error(static: "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.")
            }
        } else if bgsave() {
            c.reply.simple("Background saving started")
        } else {
            c.error(static: "ERR")
        }
    }

    public func bgrewriteaofCommand(_ c: Client) {
        aof.bgrewriteaofCommand(c)
    }

    public func debugReload(_ c: Client, merge: Bool, flush: Bool, save: Bool) {
        if save && !saveSync() { c.error(static: "ERR"); return }
        if flush {
            killChild()
            engine.flushAll()
        }
        do {
            _ = try loadRDB(rdbFilename, serveWhileLoading: false, merge: merge)
        } catch {
            logger.warning("Error loading the RDB dump: \(error)")
            c.error(static: "ERR Error trying to load the RDB dump")
            return
        }
        logger.warning("DB reloaded by DEBUG RELOAD")
        c.reply.ok()
    }

    public func debugLoadAOF(_ c: Client) {
        aof.debugLoadAOF(c)
    }

    public func prepareForShutdown(save: Bool?) -> Bool {
        if let c = child {
            logger.warning("There is a child saving an .rdb or rewriting the AOF. Killing it!")
            _ = c
            killChild()
        }
        aof.flushForShutdown()
        let wantsSave = save ?? !config.savePoints.isEmpty
        if wantsSave {
            logger.notice("Saving the final RDB snapshot before exiting.")
            if !saveSync() {
                logger.warning("Error trying to save the DB, can't exit.")
                return false
            }
        }
        return true
    }

    public func afterFlushAll() {
        if child?.kind == .rdb { killChild() }
        if !config.savePoints.isEmpty { _ = saveSync() }
    }

    public func configChanged(_ name: String) -> String? {
        switch name {
        case "appendonly", "appendfsync", "aof-timestamp-enabled": return aof.appendonlyChanged()
        case "stop-writes-on-bgsave-error", "save": return nil
        default: return nil
        }
    }

    // MARK: INFO persistence

    /// Before replies leave: the AOF gets this round's writes (and its fsync per policy).
    public func beforeReplies() { aof.beforeReplies() }

    public var points: ShardStagePoints { [.beforeReplies, .cron] }

    public var infoSection: String? { "persistence" }

    public func infoFields() -> [(String, String)] {
        let now = ShardEngine.wallClockMs()
        var f: [(String, String)] = [
            ("loading", engine.loading ? "1" : "0"),
            ("rdb_changes_since_last_save", String(engine.dirty)),
            ("rdb_bgsave_in_progress", child?.kind == .rdb ? "1" : "0"),
            ("rdb_last_save_time", String(engine.lastSaveTime)),
            ("rdb_last_bgsave_status", lastBgsaveOK ? "ok" : "err"),
            ("rdb_last_bgsave_time_sec", String(lastBgsaveSeconds)),
            ("rdb_current_bgsave_time_sec", child?.kind == .rdb ? String((now - child!.startMs) / 1000) : "-1"),
            ("rdb_saves", String(rdbSaves)),
            ("rdb_last_cow_size", String(lastRDBCowBytes)),
            ("rdb_last_load_keys_expired", String(lastLoadExpired)),
            ("rdb_last_load_keys_loaded", String(lastLoadKeys)),
        ]
        if engine.loading {
            let elapsed = max(1, (now - loadingStartMs) / 1000)
            let perc = loadingTotalBytes > 0 ? Double(loadingDoneBytes) * 100 / Double(loadingTotalBytes) : 0
            f += [("loading_start_time", String(loadingStartMs / 1000)),
                  ("loading_total_bytes", String(loadingTotalBytes)),
                  ("loading_rdb_used_mem", "0"),
                  ("loading_loaded_bytes", String(loadingDoneBytes)),
                  ("loading_loaded_perc", formatFixed(perc, 2)),
                  ("loading_eta_seconds", String(perc > 0 ? Int64(Double(elapsed) * (100 - perc) / perc) : 1)),
                  ("loading_elapsed_seconds", String(elapsed))]
        }
        f += aof.infoFields(child: child)
        return f
    }
}

func formatSeconds(_ ms: Int64) -> String {
    formatFixed(Double(ms) / 1000, 3)
}
