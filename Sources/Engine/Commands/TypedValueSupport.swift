// What the list, hash, set and sorted-set commands do alike: look a key up
// as one value type, and remove members until the value empties (HDEL, SREM,
// ZREM), deleting the key then as Redis does.

/// A key looked up for a command that expects values of one type.
enum TypedLookup<V: AnyObject> { case missing, wrongType, found(V) }

extension ShardEngine {
    @inline(__always)
    static func lookupTyped<V: AnyObject>(_ c: Client, _ key: UnsafeRawBufferPointer, _ type: ValueType,
                                          as _: V.Type, write: Bool) -> TypedLookup<V> {
        let s = c.engine
        guard let e = write ? s.lookupWrite(c.db, key) : s.lookupRead(c, key) else { return .missing }
        return e.type == type ? .found(unsafeDowncast(e.object, to: V.self)) : .wrongType
    }

    /// Removes the members in arguments 2... from `value` (its key is
    /// argument 1) with `remove`, stopping once it is empty and deleting the
    /// key then; replies the number removed and signals the change.
    static func removeMembers<V: ValueObject>(_ c: Client, _ value: V, _ cls: KeyspaceEventClass, event: StaticString,
                                              remove: (V, UnsafeRawBufferPointer) -> Bool) {
        let a = c.args, key = a[1], s = c.engine
        var deleted = 0
        var keyRemoved = false
        for i in 2..<a.count where remove(value, a[i]) {
            deleted += 1
            if value.count == 0 {
                s.deleteKey(c.db, key)
                keyRemoved = true
                break
            }
        }
        if deleted > 0 {
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(cls, event, key, c.dbIndex)
            if keyRemoved { s.notifyKeyspaceEvent(.generic, "del", key, c.dbIndex) }
            s.addDirty(deleted)
        }
        c.reply.integer(deleted)
    }
}
