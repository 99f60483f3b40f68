// Pub/Sub (Redis's pubsub.c): channel, pattern and shard-channel
// subscriptions, message delivery into subscribers' reply buffers, and the
// `client-output-buffer-limit pubsub` check that cuts slow subscribers.
//
// Delivery writes into other clients' buffers; each is reported to the
// loop (ShardHost.clientHasOutput), which writes it in the same round. Nothing here runs on the GET/SET path: PUBLISH and keyspace
// notifications are the only callers of `publish`.

import RESP

/// Server-wide subscriptions. Subscriber lists keep subscription order, which
/// is the delivery order (as Redis's per-channel lists).
final class PubSubState {
    var channels: [[UInt8]: [Client]] = [:]
    var patterns: [[UInt8]: [Client]] = [:]
    var shardChannels: [[UInt8]: [Client]] = [:]
    /// Patterns in the order they were first subscribed (delivery order of pmessages).
    var patternOrder: [[UInt8]] = []

    var isEmpty: Bool { channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty }
}

/// One client's subscriptions; allocated on its first SUBSCRIBE.
final class ClientSubscriptions {
    var channels: [[UInt8]: Int] = [:]
    var patterns: [[UInt8]: Int] = [:]
    var shardChannels: [[UInt8]: Int] = [:]
    var seq = 0

    /// Redis's clientSubscriptionsCount (shard channels are counted apart).
    var count: Int { channels.count + patterns.count }
    var total: Int { channels.count + patterns.count + shardChannels.count }

    static func ordered(_ d: [[UInt8]: Int]) -> [[UInt8]] {
        d.sorted { $0.value < $1.value }.map { $0.key }
    }
}

public enum PubSubKind { case channel, pattern, shard }

extension ShardEngine {
    // MARK: subscribing

    private func subs(_ c: Client) -> ClientSubscriptions {
        if let s = c.subscriptions { return s }
        let s = ClientSubscriptions()
        c.subscriptions = s
        return s
    }

    /// Subscribes `c` to `name` and replies the confirmation; false if it already was.
    @discardableResult
    func subscribe(_ c: Client, _ name: [UInt8], kind: PubSubKind) -> Bool {
        let s = subs(c)
        var added = false
        s.seq += 1
        switch kind {
        case .channel:
            if s.channels[name] == nil {
                s.channels[name] = s.seq
                pubsub.channels[name, default: []].append(c)
                added = true
            }
        case .pattern:
            if s.patterns[name] == nil {
                s.patterns[name] = s.seq
                if pubsub.patterns[name] == nil { pubsub.patternOrder.append(name) }
                pubsub.patterns[name, default: []].append(c)
                added = true
            }
        case .shard:
            if s.shardChannels[name] == nil {
                s.shardChannels[name] = s.seq
                pubsub.shardChannels[name, default: []].append(c)
                added = true
            }
        }
        c.inPubSub = true
        let r = c.reply, start = r.out.writeIndex
        r.push(3)
        switch kind {
        case .channel: r.bulk(string: "subscribe")
        case .pattern: r.bulk(string: "psubscribe")
        case .shard: r.bulk(string: "ssubscribe")
        }
        r.bulk(name)
        r.integer(kind == .shard ? s.shardChannels.count : s.count)
        notePush(c, from: start)
        return added
    }

    /// Unsubscribes `c` from `name`, replying the confirmation when `notify`.
    @discardableResult
    func unsubscribe(_ c: Client, _ name: [UInt8], kind: PubSubKind, notify: Bool = true) -> Bool {
        var removed = false
        if let s = c.subscriptions {
            switch kind {
            case .channel:
                if s.channels.removeValue(forKey: name) != nil {
                    removed = true
                    ShardEngine.removeSubscriber(c, name, from: &pubsub.channels)
                }
            case .pattern:
                if s.patterns.removeValue(forKey: name) != nil {
                    removed = true
                    ShardEngine.removeSubscriber(c, name, from: &pubsub.patterns)
                    if pubsub.patterns[name] == nil { pubsub.patternOrder.removeAll { $0 == name } }
                }
            case .shard:
                if s.shardChannels.removeValue(forKey: name) != nil {
                    removed = true
                    ShardEngine.removeSubscriber(c, name, from: &pubsub.shardChannels)
                }
            }
        }
        if notify {
            let r = c.reply, start = r.out.writeIndex
            r.push(3)
            switch kind {
            case .channel: r.bulk(string: "unsubscribe")
            case .pattern: r.bulk(string: "punsubscribe")
            case .shard: r.bulk(string: "sunsubscribe")
            }
            r.bulk(name)
            let s = c.subscriptions
            r.integer(kind == .shard ? (s?.shardChannels.count ?? 0) : (s?.count ?? 0))
            notePush(c, from: start)
        }
        updatePubSubFlag(c)
        return removed
    }

    private static func removeSubscriber(_ c: Client, _ name: [UInt8], from dict: inout [[UInt8]: [Client]]) {
        guard var list = dict[name] else { return }
        if let i = list.firstIndex(where: { $0 === c }) { list.remove(at: i) }
        dict[name] = list.isEmpty ? nil : list
    }

    /// Unsubscribes from all of one kind; replies one confirmation per name,
    /// or a single one with a null name when there was nothing (if `notify`).
    func unsubscribeAll(_ c: Client, kind: PubSubKind, notify: Bool = true) {
        var names: [[UInt8]] = []
        if let s = c.subscriptions {
            switch kind {
            case .channel: names = ClientSubscriptions.ordered(s.channels)
            case .pattern: names = ClientSubscriptions.ordered(s.patterns)
            case .shard: names = ClientSubscriptions.ordered(s.shardChannels)
            }
        }
        for n in names { unsubscribe(c, n, kind: kind, notify: notify) }
        if names.isEmpty && notify {
            let r = c.reply, start = r.out.writeIndex
            r.push(3)
            switch kind {
            case .channel: r.bulk(string: "unsubscribe")
            case .pattern: r.bulk(string: "punsubscribe")
            case .shard: r.bulk(string: "sunsubscribe")
            }
            r.null()
            let s = c.subscriptions
            r.integer(kind == .shard ? (s?.shardChannels.count ?? 0) : (s?.count ?? 0))
            notePush(c, from: start)
        }
        updatePubSubFlag(c)
    }

    private func updatePubSubFlag(_ c: Client) {
        if let s = c.subscriptions, s.total == 0 {
            c.subscriptions = nil
            c.inPubSub = false
            c.obufSoftLimitSince = 0
        } else if c.subscriptions == nil {
            c.inPubSub = false
        }
    }

    /// Drops every subscription of `c` without replying (disconnect, RESET).
    func pubsubRemoveClient(_ c: Client) {
        guard c.subscriptions != nil else { return }
        unsubscribeAll(c, kind: .channel, notify: false)
        unsubscribeAll(c, kind: .pattern, notify: false)
        unsubscribeAll(c, kind: .shard, notify: false)
        c.subscriptions = nil
        c.inPubSub = false
    }

    // MARK: publishing

    /// Delivers `message` to the subscribers of `channel` (and of matching
    /// patterns unless `shard`); returns the number of receivers.
    @discardableResult
    public func publish(_ channel: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer, shard: Bool = false) -> Int {
        if pubsub.isEmpty { return 0 }
        var receivers = 0
        let key = Array(channel)
        if shard {
            if let list = pubsub.shardChannels[key] {
                for c in list where !c.closeASAP { deliver(c, "smessage", pattern: nil, channel, message); receivers += 1 }
            }
            return receivers
        }
        if let list = pubsub.channels[key] {
            for c in list where !c.closeASAP { deliver(c, "message", pattern: nil, channel, message); receivers += 1 }
        }
        if !pubsub.patterns.isEmpty {
            for p in pubsub.patternOrder {
                let matches = p.withUnsafeBytes { globMatch($0, channel) }
                guard matches, let list = pubsub.patterns[p] else { continue }
                for c in list where !c.closeASAP { deliver(c, "pmessage", pattern: p, channel, message); receivers += 1 }
            }
        }
        return receivers
    }

    /// One message push: [kind, (pattern,) channel, message], then flush and limits.
    @inline(__always)
    private func deliver(_ c: Client, _ kind: StaticString, pattern: [UInt8]?, _ channel: UnsafeRawBufferPointer,
                         _ message: UnsafeRawBufferPointer) {
        let r = c.reply, start = r.out.writeIndex
        r.push(pattern == nil ? 3 : 4)
        r.bulk(kind.utf8Start, kind.utf8CodeUnitCount)
        if let p = pattern { r.bulk(p) }
        r.bulk(channel)
        r.bulk(message)
        afterPubSubWrite(c, from: start)
    }

    public func publish(_ channel: [UInt8], _ message: [UInt8], shard: Bool = false) -> Int {
        channel.withUnsafeBytes { ch in message.withUnsafeBytes { publish(ch, $0, shard: shard) } }
    }

    /// Queues `c` for a flush and applies the output buffer limits of its class.
    @inline(__always)
    func afterPubSubWrite(_ c: Client, from start: Int) {
        notePush(c, from: start)
        host?.clientHasOutput(c)
        if !c.closeASAP && outputLimitReached(c) { closeForOutputLimit(c) }
    }

    /// Pub/Sub output is never silenced by CLIENT REPLY OFF/SKIP (Redis's CLIENT_PUSHING).
    @inline(__always)
    func notePush(_ c: Client, from start: Int) {
        if c.replyMode != .on { c.pushRanges.append((start, c.reply.out.writeIndex)) }
    }

    // MARK: introspection

    var pubsubChannelCount: Int { pubsub.channels.count }
    var pubsubPatternCount: Int { pubsub.patterns.count }
    var pubsubShardChannelCount: Int { pubsub.shardChannels.count }
}
