// Keyspace notifications (Redis's notify.c): `notify-keyspace-events`
// flags and the publishing behind `ShardEngine.notifyKeyspaceEvent`.
//
// The hook itself (Keyspace.swift) is inlined into every command and tests a
// single bit of `config.notifyFlags`; the channel names are only built here,
// on the slow path, when the class is enabled.

/// Redis's NOTIFY_* bits and their one-letter names.
public enum KeyspaceEvents {
    public static let keyspace: Int32 = 1 << 0   // K
    public static let keyevent: Int32 = 1 << 1   // E
    public static let generic: Int32 = 1 << 2    // g
    public static let string: Int32 = 1 << 3     // $
    public static let list: Int32 = 1 << 4       // l
    public static let set: Int32 = 1 << 5        // s
    public static let hash: Int32 = 1 << 6       // h
    public static let zset: Int32 = 1 << 7       // z
    public static let expired: Int32 = 1 << 8    // x
    public static let evicted: Int32 = 1 << 9    // e
    public static let stream: Int32 = 1 << 10    // t
    public static let keyMiss: Int32 = 1 << 11   // m (not part of A)
    public static let module: Int32 = 1 << 13    // d
    public static let new: Int32 = 1 << 14       // n (not part of A)
    public static let all: Int32 = generic | string | list | set | hash | zset | expired | evicted | stream | module

    /// Parses a class string ("KEA", "Kl$"...); nil on an unknown character.
    public static func flags(_ s: String) -> Int32? {
        var f: Int32 = 0
        for ch in s.utf8 {
            switch ch {
            case UInt8(ascii: "A"): f |= all
            case UInt8(ascii: "g"): f |= generic
            case UInt8(ascii: "$"): f |= string
            case UInt8(ascii: "l"): f |= list
            case UInt8(ascii: "s"): f |= set
            case UInt8(ascii: "h"): f |= hash
            case UInt8(ascii: "z"): f |= zset
            case UInt8(ascii: "x"): f |= expired
            case UInt8(ascii: "e"): f |= evicted
            case UInt8(ascii: "K"): f |= keyspace
            case UInt8(ascii: "E"): f |= keyevent
            case UInt8(ascii: "t"): f |= stream
            case UInt8(ascii: "m"): f |= keyMiss
            case UInt8(ascii: "d"): f |= module
            case UInt8(ascii: "n"): f |= new
            default: return nil
            }
        }
        return f
    }

    /// The canonical CONFIG GET form of `f`, as Redis's keyspaceEventsFlagsToString.
    public static func string(_ f: Int32) -> String {
        var s = ""
        if f & all == all {
            s += "A"
        } else {
            if f & generic != 0 { s += "g" }
            if f & string != 0 { s += "$" }
            if f & list != 0 { s += "l" }
            if f & set != 0 { s += "s" }
            if f & hash != 0 { s += "h" }
            if f & zset != 0 { s += "z" }
            if f & expired != 0 { s += "x" }
            if f & evicted != 0 { s += "e" }
            if f & stream != 0 { s += "t" }
            if f & module != 0 { s += "d" }
            if f & new != 0 { s += "n" }
        }
        if f & keyspace != 0 { s += "K" }
        if f & keyevent != 0 { s += "E" }
        if f & keyMiss != 0 { s += "m" }
        return s
    }
}

extension ShardEngine.KeyspaceEventClass {
    /// The NOTIFY_* bit of this class.
    @inline(__always) var bit: Int32 {
        switch self {
        case .generic: return KeyspaceEvents.generic
        case .string: return KeyspaceEvents.string
        case .list: return KeyspaceEvents.list
        case .set: return KeyspaceEvents.set
        case .hash: return KeyspaceEvents.hash
        case .zset: return KeyspaceEvents.zset
        case .expired: return KeyspaceEvents.expired
        case .evicted: return KeyspaceEvents.evicted
        case .stream: return KeyspaceEvents.stream
        case .keyMiss: return KeyspaceEvents.keyMiss
        case .new: return KeyspaceEvents.new
        }
    }
}

extension ShardEngine {
    /// Publishes `__keyspace@<db>__:<key> <event>` and/or
    @inline(__always)
    private func relayKeyspaceEvent(_ channel: UnsafeRawBufferPointer, _ message: UnsafeRawBufferPointer) {
        if relaysKeyspaceEvents { host?.relayKeyspaceEvent(channel: channel, message: message) }
    }

    /// `__keyevent@<db>__:<event> <key>` (the class was already checked).
    @inline(never)
    func publishKeyspaceEvent(_ event: StaticString, _ key: UnsafeRawBufferPointer, _ db: Int) {
        let flags = config.notifyFlags
        // Nobody can receive it (here, nor on another shard).
        if pubsub.isEmpty && !relaysKeyspaceEvents { return }
        let ev = UnsafeRawBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount)
        var dbDigits = Array(String(db).utf8)
        if flags & KeyspaceEvents.keyspace != 0 {
            var chan: [UInt8] = Array("__keyspace@".utf8)
            chan.reserveCapacity(16 + dbDigits.count + key.count)
            chan += dbDigits
            chan += [0x5F, 0x5F, 0x3A]  // "__:"
            chan += key
            chan.withUnsafeBytes { _ = publish($0, ev); relayKeyspaceEvent($0, ev) }
        }
        if flags & KeyspaceEvents.keyevent != 0 {
            var chan: [UInt8] = Array("__keyevent@".utf8)
            chan += dbDigits
            chan += [0x5F, 0x5F, 0x3A]
            chan += ev
            chan.withUnsafeBytes { _ = publish($0, key); relayKeyspaceEvent($0, key) }
        }
        dbDigits.removeAll()
    }
}
