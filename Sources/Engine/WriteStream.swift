// The write stream's consumers (Propagation.swift produces the stream): the
// AOF, and replicas next. Each consumer sees every propagated command in
// order; the stream is suspended while the engine runs writes that must not
// be propagated again (replaying the AOF, a plugin's call without '!').

public final class WriteStream {
    public private(set) var consumers: [WriteStreamConsumer] = []
    private var suspensions = 0
    /// Some consumer wants writes and nothing suspended the stream: the one
    /// check the command path makes.
    public private(set) var isActive = false

    init() {}

    /// Adds `consumer` (once: adding it again changes nothing).
    public func add(_ consumer: WriteStreamConsumer) {
        if consumers.contains(where: { $0 === consumer }) { return }
        consumers.append(consumer)
        update()
    }

    public func remove(_ consumer: WriteStreamConsumer) {
        consumers.removeAll { $0 === consumer }
        update()
    }

    /// Stops propagation until the matching `resume`; suspensions nest.
    public func suspend() { suspensions += 1; update() }
    public func resume() { suspensions -= 1; update() }

    /// Runs `body` with propagation suspended.
    public func withoutPropagation<T>(_ body: () throws -> T) rethrows -> T {
        suspend()
        defer { resume() }
        return try body()
    }

    func feed(_ p: PropagatedCommand) {
        for consumer in consumers { consumer.feed(p) }
    }

    func fed(by c: Client) {
        for consumer in consumers { consumer.fed(by: c) }
    }

    private func update() { isActive = !consumers.isEmpty && suspensions == 0 }
}
