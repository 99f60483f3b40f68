// Lazy free (Redis's lazyfree.c + the BIO_LAZY_FREE thread): big values are
// released on a background thread so deleting a key with millions of
// elements never stalls the event loop.
//
// Redis's effort rule decides: a value goes to the background only when
// freeing it costs more than 64 allocations (a hashtable set/hash or skiplist
// zset with more than 64 elements, a list of more than 64 nodes); compact
// encodings (listpack, intset) and strings are one allocation and are freed
// at once.
//
// Thread safety: a value object is handed over only after its entry left the
// table, and only when the table's reference is the only one
// (isKnownUniquelyReferenced, Redis's refcount == 1 test): the background
// thread then drops the last reference and the object's deinit runs there.
// Swift's reference counting is atomic, and the value types' deinits only
// free their own memory. The queue and the two counters are guarded by a
// mutex; the engine thread takes it once per handed-over value.

import Glibc

public final class LazyFree {
    /// Values needing more than this many frees go to the background (LAZYFREE_THRESHOLD).
    public static let threshold = 64

    struct Job {
        let objects: Int
        let work: () -> Void
    }

    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var queue: [Job] = []
    private var pendingCount = 0
    private var freedCount = 0
    private var started = false
    private weak var accounting: MemoryAccounting?

    init(accounting: MemoryAccounting) {
        self.accounting = accounting
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    /// Objects handed over and not freed yet (INFO lazyfree_pending_objects).
    public var pending: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return pendingCount
    }

    /// Objects freed in the background so far (INFO lazyfreed_objects).
    public var freed: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return freedCount
    }

    public func resetFreedCount() {
        pthread_mutex_lock(&mutex)
        freedCount = 0
        pthread_mutex_unlock(&mutex)
    }

    /// Queues `work`, which frees `objects` objects, for the background thread.
    func submit(objects: Int, _ work: @escaping () -> Void) {
        if !started { start() }
        pthread_mutex_lock(&mutex)
        queue.append(Job(objects: objects, work: work))
        pendingCount += objects
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// Blocks until every queued job ran (tests, DEBUG).
    public func drain() {
        while pending > 0 { usleep(100) }
    }

    private final class StartBox {
        let owner: LazyFree
        var registered = false
        var mutex = pthread_mutex_t()
        var cond = pthread_cond_t()
        init(_ o: LazyFree) {
            owner = o
            pthread_mutex_init(&mutex, nil)
            pthread_cond_init(&cond, nil)
        }
    }

    /// Starts the thread and waits until it registered its allocation counters
    /// (so the engine's used_memory counts what it frees).
    private func start() {
        started = true
        let box = StartBox(self)
        var tid = pthread_t()
        let arg = Unmanaged.passRetained(box).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            let box = Unmanaged<StartBox>.fromOpaque(raw!).takeRetainedValue()
            let owner = box.owner
            owner.accounting?.registerCurrentThread()
            pthread_mutex_lock(&box.mutex)
            box.registered = true
            pthread_cond_signal(&box.cond)
            pthread_mutex_unlock(&box.mutex)
            owner.run()
        }, arg)
        if rc != 0 {
            // No thread: free synchronously from now on.
            Unmanaged<StartBox>.fromOpaque(arg).release()
            started = false
            return
        }
        pthread_detach(tid)
        pthread_mutex_lock(&box.mutex)
        while !box.registered { pthread_cond_wait(&box.cond, &box.mutex) }
        pthread_mutex_unlock(&box.mutex)
    }

    private func run() -> Never {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.isEmpty { pthread_cond_wait(&cond, &mutex) }
            let job = queue.removeFirst()
            pthread_mutex_unlock(&mutex)
            job.work()
            pthread_mutex_lock(&mutex)
            pendingCount -= job.objects
            freedCount += job.objects
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Redis's lazyfreeGetFreeEffort: roughly how many allocations freeing `obj` releases.
    public static func freeEffort(_ obj: AnyObject) -> Int {
        switch obj {
        case let l as ListValue: return l.chunkCount
        case let s as SetValue: return s.isIntset ? 1 : s.count
        case let z as ZSetValue: return z.isListpack ? 1 : z.count
        case let h as HashValue: return h.isListpack ? 1 : h.count
        case let st as StreamValue:
            // Every node is an allocation; each consumer group too, with its
            // PEL (the first group's PEL size stands for all, as Redis does).
            var effort = st.nodes.count
            if let g = st.groups.first { effort += st.groups.count * (1 + g.pel.count) }
            return effort
        default: return 1
        }
    }
}

extension ShardEngine {
    /// Frees an entry already removed from its database: its value goes to the
    /// lazy-free thread when it is big and nothing else references it (Redis's
    /// dbAsyncDelete / freeObjAsync), otherwise everything is freed now.
    func freeEntryAsync(_ e: Entry) {
        if e.typeRaw == ValueType.string.rawValue {
            e.destroy()
            return
        }
        let raw = e.valuePointer.loadUnaligned(as: UInt.self)
        let opaque = UnsafeMutableRawPointer(bitPattern: raw)!
        // The entry's +1 becomes ours; the entry's block is freed here.
        free(e.ptr)
        var obj: AnyObject? = Unmanaged<AnyObject>.fromOpaque(opaque).takeRetainedValue()
        guard LazyFree.freeEffort(obj!) > LazyFree.threshold, isKnownUniquelyReferenced(&obj) else {
            return  // `obj` is released here, on this thread
        }
        let handed = Unmanaged.passRetained(obj!)
        // Our own reference goes first: the thread's release must be the last one.
        obj = nil
        lazyFree.submit(objects: 1) { handed.release() }
    }

    /// Frees an entry removed from its database, lazily if `lazy`.
    @inline(__always)
    func disposeEntry(_ e: Entry, lazy: Bool) {
        if lazy { freeEntryAsync(e) } else { e.destroy() }
    }

    /// Empties `db`, freeing its content on the lazy-free thread (FLUSHDB/FLUSHALL ASYNC).
    func flushAsync(_ db: Database) {
        let keys = db.count
        if keys == 0 { return }
        let detached = db.detachContents()
        lazyFree.submit(objects: keys) { detached.destroy() }
    }
}

extension ShardEngine {
    /// Points the databases' overwrite path at lazy free per lazyfree-lazy-server-del
    /// (Redis's dbSetValue frees the old value with freeObjAsync then).
    func applyLazyServerDel() {
        let lazy = config.lazyfreeLazyServerDel
        for db in databases {
            db.disposeReplaced = lazy ? { [unowned self] e in self.freeEntryAsync(e) } : nil
        }
    }
}
