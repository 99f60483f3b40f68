// The shard's connections by id. Listed clients are the ones CLIENT LIST,
// INFO and maxclients count; internal connections (the supervisor's link,
// other shards' links) are hidden from those but still found by id, because
// their blocked commands time out like anyone's. Monitors are listed clients
// that also receive every command run.

public final class ClientRegistry {
    private var listed: [Int64: Client] = [:]
    private var unlisted: [Int64: Client] = [:]
    public private(set) var monitors: [Client] = []
    private var nextID: Int64 = 1

    init() {}

    /// The number of listed clients (connected_clients, maxclients).
    public var count: Int { listed.count }
    /// Listed clients, in no particular order.
    public var values: Dictionary<Int64, Client>.Values { listed.values }
    /// Listed clients by ascending id (CLIENT LIST's order).
    public var byID: [Client] { listed.values.sorted { $0.id < $1.id } }

    /// A listed client by id.
    public subscript(id: Int64) -> Client? { listed[id] }

    /// Any connected client by id, internal ones included.
    func any(_ id: Int64) -> Client? { listed[id] ?? unlisted[id] }

    /// The id for the next client (ids are never reused).
    func takeID() -> Int64 {
        defer { nextID += 1 }
        return nextID
    }

    func add(_ c: Client) { listed[c.id] = c }

    /// Moves `c` out of the listed clients. False if it was not listed.
    func unlist(_ c: Client) -> Bool {
        unlisted[c.id] = c
        return listed.removeValue(forKey: c.id) != nil
    }

    func addMonitor(_ c: Client) { monitors.append(c) }
    func removeMonitor(_ c: Client) { monitors.removeAll { $0 === c } }

    func remove(_ c: Client) {
        if c.isMonitor { removeMonitor(c) }
        listed[c.id] = nil
        unlisted[c.id] = nil
    }
}
