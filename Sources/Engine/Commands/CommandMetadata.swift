// What Redis 7.0 publishes about each command beyond arity and flags: ACL
// categories, tips, key specs and documentation (COMMAND INFO / COMMAND DOCS).
// The data (CommandMetadataA/B.swift) is generated from a reference server;
// it is parsed on first use. Key specs also drive COMMAND GETKEYS.

import RESP

/// A reply tree (the shapes COMMAND INFO/DOCS use), written as RESP2 or RESP3.
public indirect enum MetaNode {
    case map([(MetaNode, MetaNode)])
    case array([MetaNode])
    case set([MetaNode])
    case bulk(String)
    case status(String)
    case int(Int)

    public func write(to r: ReplyEncoder) {
        switch self {
        case .map(let pairs):
            r.map(pairs.count)
            for (k, v) in pairs { k.write(to: r); v.write(to: r) }
        case .array(let a): r.array(a.count); for x in a { x.write(to: r) }
        case .set(let a): r.set(a.count); for x in a { x.write(to: r) }
        case .bulk(let s): r.bulk(string: s)
        case .status(let s): r.simple(string: s)
        case .int(let v): r.integer(v)
        }
    }

    var string: String? {
        switch self {
        case .bulk(let s), .status(let s): return s
        default: return nil
        }
    }

    var intValue: Int? { if case .int(let v) = self { return v } else { return nil } }

    var elements: [MetaNode] {
        switch self {
        case .array(let a), .set(let a): return a
        default: return []
        }
    }

    /// The value under `key` of a map node.
    subscript(key: String) -> MetaNode? {
        if case .map(let pairs) = self {
            for (k, v) in pairs where k.string == key { return v }
        }
        return nil
    }
}

/// A key spec: where a command's keys are (Redis's begin_search / find_keys).
public struct KeySpec {
    public enum Begin { case index(Int), keyword(String, startFrom: Int), unknown }
    public enum Find { case range(lastKey: Int, step: Int, limit: Int), keynum(index: Int, firstKey: Int, step: Int), unknown }
    public var flags: [String]
    public var begin: Begin
    public var find: Find
    /// The spec as Redis shows it (notes included), when it came from Redis's metadata.
    var raw: MetaNode? = nil

    var notKey: Bool { flags.contains("not_key") }
    var incomplete: Bool { flags.contains("incomplete") }

    init(_ n: MetaNode) {
        raw = n
        flags = (n["flags"]?.elements ?? []).compactMap { $0.string }
        let bs = n["begin_search"], fk = n["find_keys"]
        switch bs?["type"]?.string {
        case "index": begin = .index(bs?["spec"]?["index"]?.intValue ?? 0)
        case "keyword":
            begin = .keyword(bs?["spec"]?["keyword"]?.string ?? "", startFrom: bs?["spec"]?["startfrom"]?.intValue ?? 1)
        default: begin = .unknown
        }
        let spec = fk?["spec"]
        switch fk?["type"]?.string {
        case "range":
            find = .range(lastKey: spec?["lastkey"]?.intValue ?? 0, step: spec?["keystep"]?.intValue ?? 1,
                          limit: spec?["limit"]?.intValue ?? 0)
        case "keynum":
            find = .keynum(index: spec?["keynumidx"]?.intValue ?? 0, firstKey: spec?["firstkey"]?.intValue ?? 1,
                           step: spec?["keystep"]?.intValue ?? 1)
        default: find = .unknown
        }
    }

    init(flags: [String], begin: Begin, find: Find) {
        self.flags = flags
        self.begin = begin
        self.find = find
    }

    /// The tree COMMAND INFO shows.
    var node: MetaNode {
        if let r = raw { return r }
        let bs: MetaNode, fk: MetaNode
        switch begin {
        case .index(let i):
            bs = .map([(.bulk("type"), .bulk("index")), (.bulk("spec"), .map([(.bulk("index"), .int(i))]))])
        case .keyword(let k, let from):
            bs = .map([(.bulk("type"), .bulk("keyword")),
                       (.bulk("spec"), .map([(.bulk("keyword"), .bulk(k)), (.bulk("startfrom"), .int(from))]))])
        case .unknown:
            bs = .map([(.bulk("type"), .bulk("unknown")), (.bulk("spec"), .map([]))])
        }
        switch find {
        case .range(let last, let step, let limit):
            fk = .map([(.bulk("type"), .bulk("range")),
                       (.bulk("spec"), .map([(.bulk("lastkey"), .int(last)), (.bulk("keystep"), .int(step)),
                                             (.bulk("limit"), .int(limit))]))])
        case .keynum(let idx, let first, let step):
            fk = .map([(.bulk("type"), .bulk("keynum")),
                       (.bulk("spec"), .map([(.bulk("keynumidx"), .int(idx)), (.bulk("firstkey"), .int(first)),
                                             (.bulk("keystep"), .int(step))]))])
        case .unknown:
            fk = .map([(.bulk("type"), .bulk("unknown")), (.bulk("spec"), .map([]))])
        }
        return .map([(.bulk("flags"), .set(flags.map { .status($0) })), (.bulk("begin_search"), bs), (.bulk("find_keys"), fk)])
    }
}

public enum CommandMetadata {
    public struct Entry {
        public let name: String
        public let arity: Int
        public let flags: [String]
        public let firstKey: Int, lastKey: Int, keyStep: Int
        public let aclCategories: [String]
        public let tips: [String]
        public let keySpecs: [KeySpec]
        /// COMMAND DOCS fields (summary, since, group, complexity, arguments...), subcommands excluded.
        public let docs: [(String, MetaNode)]
    }

    /// Parsed on first use (static lets initialize lazily and thread-safely).
    private static let table: [String: Entry] = load()

    /// Redis's metadata for the command `fullName` ("get", "config|get").
    public static func entry(_ fullName: String) -> Entry? { table[fullName] }

    public static var all: [String: Entry] { table }

    private static func load() -> [String: Entry] {
        var out: [String: Entry] = [:]
        for table in [tableA, tableB] {
            for line in table.split(separator: "\n") {
                if let e = parseLine(Array(line.utf8)) { out[e.name] = e }
            }
        }
        return out
    }

    static func parseLine(_ b: [UInt8]) -> Entry? {
        let cols = b.split(separator: 9, omittingEmptySubsequences: false)
        guard cols.count == 8 else { return nil }
        func s(_ i: Int) -> String { String(decoding: cols[i], as: UTF8.self) }
        func list(_ i: Int) -> [String] { s(i).split(separator: ",").map(String.init) }
        let fls = list(3).compactMap { Int($0) }
        guard fls.count == 3, let arity = Int(s(1)) else { return nil }
        var pos = 0
        let specs = Array(cols[6])
        guard let specTree = parseTree(specs, &pos) else { return nil }
        pos = 0
        let docBytes = Array(cols[7])
        guard let docTree = parseTree(docBytes, &pos) else { return nil }
        var docs: [(String, MetaNode)] = []
        if case .map(let pairs) = docTree {
            for (k, v) in pairs { docs.append((k.string ?? "", v)) }
        }
        return Entry(name: s(0), arity: arity, flags: list(2), firstKey: fls[0], lastKey: fls[1], keyStep: fls[2],
                     aclCategories: list(4), tips: list(5), keySpecs: specTree.elements.map(KeySpec.init), docs: docs)
    }

    /// Parses the compact tree form: %N map, *N array, ~N set, $L:bytes, +L:bytes, :V; integer.
    static func parseTree(_ b: [UInt8], _ p: inout Int) -> MetaNode? {
        guard p < b.count else { return nil }
        let t = b[p]
        p += 1
        func number(until stop: UInt8?) -> Int? {
            var neg = false
            if p < b.count && b[p] == UInt8(ascii: "-") { neg = true; p += 1 }
            var v = 0, digits = 0
            while p < b.count && b[p] >= 48 && b[p] <= 57 { v = v * 10 + Int(b[p] - 48); p += 1; digits += 1 }
            if digits == 0 { return nil }
            if let s = stop { guard p < b.count && b[p] == s else { return nil }; p += 1 }
            return neg ? -v : v
        }
        switch t {
        case UInt8(ascii: "$"), UInt8(ascii: "+"):
            guard let n = number(until: UInt8(ascii: ":")), p + n <= b.count else { return nil }
            let s = String(decoding: b[p..<(p + n)], as: UTF8.self)
            p += n
            return t == UInt8(ascii: "$") ? .bulk(s) : .status(s)
        case UInt8(ascii: ":"):
            guard let v = number(until: UInt8(ascii: ";")) else { return nil }
            return .int(v)
        case UInt8(ascii: "*"), UInt8(ascii: "~"):
            guard let n = number(until: nil) else { return nil }
            var items: [MetaNode] = []
            for _ in 0..<n { guard let x = parseTree(b, &p) else { return nil }; items.append(x) }
            return t == UInt8(ascii: "*") ? .array(items) : .set(items)
        case UInt8(ascii: "%"):
            guard let n = number(until: nil) else { return nil }
            var pairs: [(MetaNode, MetaNode)] = []
            for _ in 0..<n {
                guard let k = parseTree(b, &p), let v = parseTree(b, &p) else { return nil }
                pairs.append((k, v))
            }
            return .map(pairs)
        default:
            return nil
        }
    }

    static let categoryOrder = ["@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string",
                                "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow",
                                "@blocking", "@dangerous", "@connection", "@transaction", "@scripting"]

    /// ACL categories in the order Redis lists them.
    static func sortCategories(_ c: [String]) -> [String] {
        c.sorted { (categoryOrder.firstIndex(of: $0) ?? 99) < (categoryOrder.firstIndex(of: $1) ?? 99) }
    }
}

extension Command {
    /// Key specs: Redis's for the commands it has, else one derived from first/last/step.
    public var keySpecs: [KeySpec] {
        if let m = CommandMetadata.entry(fullName) { return m.keySpecs }
        if firstKey <= 0 { return [] }
        let last = lastKey < 0 ? lastKey : lastKey - firstKey
        let f: [String] = flags.contains(.write) ? ["RW", "update"] : ["RO", "access"]
        return [KeySpec(flags: f, begin: .index(firstKey), find: .range(lastKey: last, step: max(keyStep, 1), limit: 0))]
    }

    /// True when the positions of keys depend on the arguments (the "movablekeys" flag).
    public var hasMovableKeys: Bool {
        if let m = CommandMetadata.entry(fullName) { return m.flags.contains("movablekeys") }
        return keySpecs.contains { spec in
            if case .index = spec.begin, case .range = spec.find { return false }
            return true
        }
    }

    /// The flag names COMMAND INFO shows, in Redis's order.
    public var flagNames: [String] {
        var n = flags.names
        if hasMovableKeys {
            // Redis lists movablekeys after no_multi and before allow_busy.
            let at = n.firstIndex(of: "allow_busy") ?? n.count
            n.insert("movablekeys", at: at)
        }
        return n
    }

    public var tips: [String] { CommandMetadata.entry(fullName)?.tips ?? [] }
}
