// RedisModuleKey: OpenKey/CloseKey and the key API over every data type
// (strings with DMA, lists, hashes through the variadic C HashSet/HashGet,
// sorted sets with range iterators, module types, expiry).

import CModuleABI
import Engine
import Glibc

let KEYTYPE_EMPTY: Int32 = 0, KEYTYPE_STRING: Int32 = 1, KEYTYPE_LIST: Int32 = 2, KEYTYPE_HASH: Int32 = 3
let KEYTYPE_SET: Int32 = 4, KEYTYPE_ZSET: Int32 = 5, KEYTYPE_MODULE: Int32 = 6, KEYTYPE_STREAM: Int32 = 7
let MODE_READ: Int32 = 1, MODE_WRITE: Int32 = 2

final class PluginKey {
    let ctx: Ctx?
    let db: Database
    let key: [UInt8]
    let mode: Int32
    var closed = false
    // Sorted set range iteration.
    var zRanks: (cur: Int, first: Int, last: Int)? = nil
    var zScoreRange: ScoreRange? = nil
    var zLexBounds: ([UInt8]?, Bool, [UInt8]?, Bool)? = nil   // nil bytes: -inf / +inf
    /// DMA copy of a string value being modified in place.
    init(ctx: Ctx?, db: Database, key: [UInt8], mode: Int32) {
        self.ctx = ctx; self.db = db; self.key = key; self.mode = mode
        engine = ctxHost(ctx).engine
    }

    let engine: ShardEngine
    var writable: Bool { mode & MODE_WRITE != 0 }

    func entry() -> Entry? { key.withUnsafeBytes { engine.lookupWrite(db, $0, touch: false) } }

    func modified(_ cls: ShardEngine.KeyspaceEventClass? = nil, _ event: StaticString? = nil) {
        engine.addDirty()
        engine.signalModifiedKey(db, key)
        if let cls = cls, let ev = event { engine.notifyKeyspaceEvent(cls, ev, key, db.index) }
    }

    /// Deletes the key if its aggregate became empty, as Redis does.
    func deleteIfEmpty() {
        guard let e = entry(), e.type != .string, e.type != .module, (e.object as? ValueObject)?.count == 0 else { return }
        key.withUnsafeBytes { _ = engine.deleteKey(db, $0) }
        engine.notifyKeyspaceEvent(.generic, "del", key, db.index)
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passRetained(self).toOpaque() }
    static func from(_ p: UnsafeMutableRawPointer?) -> PluginKey? {
        p.map { Unmanaged<PluginKey>.fromOpaque($0).takeUnretainedValue() }
    }
}

@inline(__always) func pkey(_ p: UnsafeMutableRawPointer?) -> PluginKey? { PluginKey.from(p) }

@_cdecl("RMX_OpenKey")
func RMX_OpenKey(_ ctx: Ctx?, _ name: RMString?, _ mode: Int32) -> UnsafeMutableRawPointer? {
    let host = ctxHost(ctx)
    let db = ctxDatabase(ctx)
    let key = stringBytes(name)
    if mode & MODE_WRITE == 0 {
        let touch = mode & (1 << 16) == 0
        let found: Bool = key.withUnsafeBytes { k in
            if let c = ctxClient(ctx) { return host.engine.lookupRead(c, k, touch: touch) != nil }
            return host.engine.lookupWrite(db, k, touch: touch) != nil
        }
        if !found { return nil }
    }
    let k = PluginKey(ctx: ctx, db: db, key: key, mode: mode)
    let p = k.opaque
    tsm_automem_add(ctx, Int32(TSM_AM_KEY), p)
    return p
}

@_cdecl("RMX_CloseKey")
func RMX_CloseKey(_ p: UnsafeMutableRawPointer?) {
    guard let p = p, let k = pkey(p), !k.closed else { return }
    k.closed = true
    tsm_automem_remove(k.ctx, p)
    if k.writable { k.engine.signalModifiedKey(k.db, k.key) }
    Unmanaged<PluginKey>.fromOpaque(p).release()
}

@_cdecl("RMX_KeyType")
func RMX_KeyType(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), let e = k.entry() else { return KEYTYPE_EMPTY }
    switch e.type {
    case .string: return KEYTYPE_STRING
    case .list: return KEYTYPE_LIST
    case .hash: return KEYTYPE_HASH
    case .set: return KEYTYPE_SET
    case .zset: return KEYTYPE_ZSET
    case .module: return KEYTYPE_MODULE
    case .stream: return KEYTYPE_STREAM
    }
}

@_cdecl("RMX_ValueLength")
func RMX_ValueLength(_ p: UnsafeMutableRawPointer?) -> Int {
    guard let k = pkey(p), let e = k.entry() else { return 0 }
    switch e.type {
    case .string: return e.stringValue.count
    case .module: return 0
    default: return (e.object as? ValueObject)?.count ?? 0
    }
}

@_cdecl("RMX_DeleteKey")
func RMX_DeleteKey(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), k.writable else { return TSM_ERR }
    if k.entry() != nil {
        _ = k.key.withUnsafeBytes { k.engine.deleteKey(k.db, $0, lazy: false) }
        k.modified()
    }
    return TSM_OK
}

@_cdecl("RMX_UnlinkKey")
func RMX_UnlinkKey(_ p: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), k.writable else { return TSM_ERR }
    if k.entry() != nil {
        _ = k.key.withUnsafeBytes { k.engine.deleteKey(k.db, $0, lazy: true) }
        k.modified()
    }
    return TSM_OK
}

@_cdecl("RMX_GetExpire")
func RMX_GetExpire(_ p: UnsafeMutableRawPointer?) -> Int64 {
    guard let k = pkey(p), let e = k.entry(), let at = e.expireAt else { return -1 }
    return max(0, at - ShardEngine.wallClockMs())
}

@_cdecl("RMX_GetAbsExpire")
func RMX_GetAbsExpire(_ p: UnsafeMutableRawPointer?) -> Int64 {
    guard let k = pkey(p), let e = k.entry(), let at = e.expireAt else { return -1 }
    return at
}

private func setExpire(_ p: UnsafeMutableRawPointer?, _ at: Int64?) -> Int32 {
    guard let k = pkey(p), k.writable, k.entry() != nil else { return TSM_ERR }
    k.key.withUnsafeBytes { _ = k.engine.setExpire(k.db, $0, at) }
    k.engine.addDirty()
    return TSM_OK
}

@_cdecl("RMX_SetExpire")
func RMX_SetExpire(_ p: UnsafeMutableRawPointer?, _ ms: Int64) -> Int32 {
    if ms == -1 { return setExpire(p, nil) }
    if ms < 0 { return TSM_ERR }
    return setExpire(p, ShardEngine.wallClockMs() + ms)
}

@_cdecl("RMX_SetAbsExpire")
func RMX_SetAbsExpire(_ p: UnsafeMutableRawPointer?, _ at: Int64) -> Int32 {
    if at == -1 { return setExpire(p, nil) }
    if at < 0 { return TSM_ERR }
    return setExpire(p, at)
}

@_cdecl("RMX_KeyExists")
func RMX_KeyExists(_ ctx: Ctx?, _ name: RMString?) -> Int32 {
    let key = stringBytes(name)
    return key.withUnsafeBytes { ctxHost(ctx).engine.exists(ctxDatabase(ctx), $0) } ? 1 : 0
}

@_cdecl("RMX_SelectDb")
func RMX_SelectDb(_ ctx: Ctx?, _ id: Int32) -> Int32 {
    guard let ctx = ctx, ctxHost(ctx).engine.database(Int(id)) != nil else { return TSM_ERR }
    if let c = ctxClient(ctx) { _ = ctxHost(ctx).engine.setClientDatabase(c, Int(id)) }
    ctx.pointee.dbid = id
    return TSM_OK
}

@_cdecl("RMX_GetSelectedDb")
func RMX_GetSelectedDb(_ ctx: Ctx?) -> Int32 { Int32(ctxDatabase(ctx).index) }

@_cdecl("RMX_GetKeyNameFromModuleKey")
func RMX_GetKeyNameFromModuleKey(_ p: UnsafeMutableRawPointer?) -> RMString? {
    guard let k = pkey(p) else { return nil }
    // Owned by the key in Redis; here a string the context frees (or leaks once without AutoMemory).
    return newString(k.ctx, k.key)
}

@_cdecl("RMX_GetDbIdFromModuleKey")
func RMX_GetDbIdFromModuleKey(_ p: UnsafeMutableRawPointer?) -> Int32 { Int32(pkey(p)?.db.index ?? -1) }

// MARK: strings

@_cdecl("RMX_StringSet")
func RMX_StringSet(_ p: UnsafeMutableRawPointer?, _ s: RMString?) -> Int32 {
    guard let k = pkey(p), k.writable else { return TSM_ERR }
    k.key.withUnsafeBytes { k.engine.setString(k.db, $0, stringBuffer(s)) }
    k.modified()
    return TSM_OK
}

/// What StringDMA returns for an empty value (a valid pointer to no bytes).
private let emptyDMA: UnsafeMutablePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p.pointee = 0
    return p
}()

@_cdecl("RMX_StringDMA")
func RMX_StringDMA(_ p: UnsafeMutableRawPointer?, _ len: UnsafeMutablePointer<Int>?, _ mode: Int32) -> UnsafeMutablePointer<CChar>? {
    guard let k = pkey(p) else { return nil }
    guard let e = k.entry() else {
        len?.pointee = 0
        return emptyDMA
    }
    guard e.type == .string else { return nil }
    len?.pointee = e.stringValue.count
    if mode & MODE_WRITE != 0 {
        e.encodingRaw = StringEncoding.raw.rawValue
        k.engine.addDirty()
    }
    if e.stringValue.count == 0 { return emptyDMA }
    return UnsafeMutablePointer(mutating: e.stringValue.baseAddress!.assumingMemoryBound(to: CChar.self))
}

@_cdecl("RMX_StringTruncate")
func RMX_StringTruncate(_ p: UnsafeMutableRawPointer?, _ newlen: Int) -> Int32 {
    guard let k = pkey(p), k.writable, newlen >= 0, newlen <= 512 * 1024 * 1024 else { return TSM_ERR }
    let e = k.entry()
    if let e = e, e.type != .string { return TSM_ERR }
    if e == nil && newlen == 0 { return TSM_OK }
    var v = e.map { Array($0.stringValue) } ?? []
    if newlen < v.count { v.removeLast(v.count - newlen) } else { v += [UInt8](repeating: 0, count: newlen - v.count) }
    k.key.withUnsafeBytes { k.engine.setString(k.db, $0, v, keepTTL: true, encoding: .raw) }
    k.modified()
    return TSM_OK
}

// MARK: lists

private func listValue(_ k: PluginKey, create: Bool) -> ListValue?? {
    if let e = k.entry() {
        guard e.type == .list else { return .some(nil) }   // wrong type
        return .some(e.object as? ListValue)
    }
    guard create else { return nil }
    let l = ListValue(fill: k.engine.config.listMaxListpackSize)
    k.key.withUnsafeBytes { k.engine.setObject(k.db, $0, l, type: .list) }
    return .some(l)
}

@_cdecl("RMX_ListPush")
func RMX_ListPush(_ p: UnsafeMutableRawPointer?, _ where_: Int32, _ ele: RMString?) -> Int32 {
    guard let k = pkey(p), k.writable, let ele = ele else { errno = EINVAL; return TSM_ERR }
    guard let found = listValue(k, create: true), let l = found else { errno = ENOTSUP; return TSM_ERR }
    l.push(stringBuffer(ele), front: where_ == 0)
    k.modified(.list, where_ == 0 ? "lpush" : "rpush")
    return TSM_OK
}

@_cdecl("RMX_ListPop")
func RMX_ListPop(_ p: UnsafeMutableRawPointer?, _ where_: Int32) -> RMString? {
    guard let k = pkey(p), k.writable, let found = listValue(k, create: false), let l = found else { errno = EINVAL; return nil }
    guard let v = l.pop(front: where_ == 0) else { return nil }
    k.modified(.list, where_ == 0 ? "lpop" : "rpop")
    k.deleteIfEmpty()
    return newString(k.ctx, v)
}

private func listIndex(_ l: ListValue, _ i: Int) -> Int? {
    let n = l.count
    let j = i < 0 ? n + i : i
    return j >= 0 && j < n ? j : nil
}

@_cdecl("RMX_ListGet")
func RMX_ListGet(_ p: UnsafeMutableRawPointer?, _ index: Int) -> RMString? {
    guard let k = pkey(p), let found = listValue(k, create: false), let l = found else { errno = ENOTSUP; return nil }
    guard let j = listIndex(l, index), let v = l.element(at: j) else { errno = EDOM; return nil }
    return newString(k.ctx, v)
}

@_cdecl("RMX_ListSet")
func RMX_ListSet(_ p: UnsafeMutableRawPointer?, _ index: Int, _ value: RMString?) -> Int32 {
    guard let k = pkey(p), k.writable, let value = value else { errno = EINVAL; return TSM_ERR }
    guard let found = listValue(k, create: false), let l = found else { errno = ENOTSUP; return TSM_ERR }
    guard let j = listIndex(l, index) else { errno = EDOM; return TSM_ERR }
    _ = l.set(at: j, stringBuffer(value))
    k.modified(.list, "lset")
    return TSM_OK
}

/// Rebuilds the list with `change` applied to its elements (insert and delete
/// by index are O(n) here).
private func rebuildList(_ k: PluginKey, _ l: ListValue, _ change: (inout [[UInt8]]) -> Void) {
    var all = l.elements()
    change(&all)
    let n = ListValue(fill: k.engine.config.listMaxListpackSize)
    for e in all { n.push(e, front: false) }
    k.key.withUnsafeBytes { k.engine.setObject(k.db, $0, n, type: .list, keepTTL: true) }
}

@_cdecl("RMX_ListInsert")
func RMX_ListInsert(_ p: UnsafeMutableRawPointer?, _ index: Int, _ value: RMString?) -> Int32 {
    guard let k = pkey(p), k.writable, let value = value else { errno = EINVAL; return TSM_ERR }
    guard let found = listValue(k, create: index == 0 || index == -1) , let l = found else { errno = ENOTSUP; return TSM_ERR }
    let n = l.count
    // Index n (or -1 on a list of n) appends; 0 prepends.
    let j = index < 0 ? n + index + 1 : index
    guard j >= 0 && j <= n else { errno = EDOM; return TSM_ERR }
    let v = stringBytes(value)
    if j == 0 { l.push(v, front: true) }
    else if j == n { l.push(v, front: false) }
    else { rebuildList(k, l) { $0.insert(v, at: j) } }
    k.modified(.list, "linsert")
    return TSM_OK
}

@_cdecl("RMX_ListDelete")
func RMX_ListDelete(_ p: UnsafeMutableRawPointer?, _ index: Int) -> Int32 {
    guard let k = pkey(p), k.writable else { errno = EINVAL; return TSM_ERR }
    guard let found = listValue(k, create: false), let l = found else { errno = ENOTSUP; return TSM_ERR }
    guard let j = listIndex(l, index) else { errno = EDOM; return TSM_ERR }
    if j == 0 { _ = l.pop(front: true) }
    else if j == l.count - 1 { _ = l.pop(front: false) }
    else { rebuildList(k, l) { $0.remove(at: j) } }
    k.modified(.list, "lrem")
    k.deleteIfEmpty()
    return TSM_OK
}

// MARK: hashes (one field at a time, from the variadic C functions)

@_cdecl("RMX_HashSetOne")
func RMX_HashSetOne(_ p: UnsafeMutableRawPointer?, _ flags: Int32, _ field: UnsafePointer<CChar>?, _ flen: Int,
                    _ value: RMString?, _ del: Int32) -> Int32 {
    guard let k = pkey(p), k.writable else { return -1 }
    let f = UnsafeRawBufferPointer(start: field, count: flen)
    var h: HashValue
    if let e = k.entry() {
        guard e.type == .hash, let hv = e.object as? HashValue else { return -1 }
        h = hv
    } else {
        if del != 0 || flags & 2 != 0 { return 0 }   // nothing to delete; XX on a missing key
        h = HashValue()
        k.key.withUnsafeBytes { k.engine.setObject(k.db, $0, h, type: .hash) }
    }
    let exists = h.contains(f)
    if del != 0 {
        guard exists else { return 0 }
        _ = h.delete(f)
        k.modified(.hash, "hdel")
        k.deleteIfEmpty()
        return 1
    }
    if flags & 1 != 0 && exists { return 0 }       // NX
    if flags & 2 != 0 && !exists { return 0 }      // XX
    let cfg = k.engine.config
    _ = h.set(f, Array(stringBuffer(value)), maxEntries: cfg.hashMaxListpackEntries, maxValue: cfg.hashMaxListpackValue)
    k.modified(.hash, "hset")
    // Updated fields count; inserted ones too with COUNT_ALL.
    return exists || flags & 16 != 0 ? 1 : 0
}

@_cdecl("RMX_HashGetOne")
func RMX_HashGetOne(_ p: UnsafeMutableRawPointer?, _ flags: Int32, _ field: UnsafePointer<CChar>?, _ flen: Int,
                    _ out: UnsafeMutablePointer<RMString?>?, _ exists: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let k = pkey(p) else { return -1 }
    let f = UnsafeRawBufferPointer(start: field, count: flen)
    var h: HashValue? = nil
    if let e = k.entry() {
        guard e.type == .hash else { return -1 }
        h = e.object as? HashValue
    }
    if let exists = exists { exists.pointee = (h?.contains(f) ?? false) ? 1 : 0 }
    if let out = out {
        if let v = h?.get(f) { out.pointee = newString(k.ctx, v) } else { out.pointee = nil }
    }
    return 0
}
