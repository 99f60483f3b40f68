// BITFIELD and BITFIELD_RO (Redis's bitfieldGeneric): signed (i1..i64) and
// unsigned (u1..u63) integers at any bit offset of a string, with GET, SET,
// INCRBY and OVERFLOW WRAP|SAT|FAIL. Fields are big-endian: the first bit of
// a field is its most significant one.

/// Field reading/writing and Redis's overflow rules, without a client.
enum Bitfield {
    enum Overflow { case wrap, sat, fail }

    /// The unsigned value of the `bits`-bit field at bit `offset` of the
    /// `count` bytes at `p`; bytes past `count` read as zeros.
    static func getUnsigned(_ p: UnsafeRawPointer?, count: Int, offset: Int, bits: Int) -> UInt64 {
        var v: UInt64 = 0
        var pos = offset, left = bits
        while left > 0 {
            let index = pos >> 3
            let byte = index < count ? UInt64(p!.load(fromByteOffset: index, as: UInt8.self)) : 0
            let avail = 8 - (pos & 7)
            let take = min(avail, left)
            let chunk = (byte >> UInt64(avail - take)) & ((1 << UInt64(take)) - 1)
            v = (v << UInt64(take)) | chunk
            pos += take
            left -= take
        }
        return v
    }

    /// The signed (two's complement) value of the field.
    static func getSigned(_ p: UnsafeRawPointer?, count: Int, offset: Int, bits: Int) -> Int64 {
        var v = getUnsigned(p, count: count, offset: offset, bits: bits)
        if bits < 64 && v & (1 << UInt64(bits - 1)) != 0 { v |= UInt64.max << UInt64(bits) }
        return Int64(bitPattern: v)
    }

    /// Stores the low `bits` bits of `value` in the field (which must lie
    /// within the buffer).
    static func set(_ p: UnsafeMutableRawPointer, offset: Int, bits: Int, value: UInt64) {
        var pos = offset, left = bits
        while left > 0 {
            let index = pos >> 3
            let avail = 8 - (pos & 7)
            let take = min(avail, left)
            let mask = UInt8(truncatingIfNeeded: (1 << take) - 1)
            let chunk = UInt8(truncatingIfNeeded: value >> UInt64(left - take)) & mask
            let shift = UInt8(avail - take)
            let old = p.load(fromByteOffset: index, as: UInt8.self)
            p.storeBytes(of: (old & ~(mask << shift)) | (chunk << shift), toByteOffset: index, as: UInt8.self)
            pos += take
            left -= take
        }
    }

    /// Redis's checkUnsignedBitfieldOverflow: whether `value + incr` leaves the
    /// range of a `bits`-bit unsigned field (1 above, -1 below, 0 inside) and
    /// the value to store instead (wrapped, or saturated; 0 for FAIL).
    static func unsignedOverflow(_ value: UInt64, _ incr: Int64, bits: Int, _ mode: Overflow) -> (Int, UInt64) {
        let max: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        @inline(__always) func wrapped() -> UInt64 {
            (value &+ UInt64(bitPattern: incr)) & ~(UInt64.max << UInt64(bits))
        }
        if value > max || (incr > 0 && incr > Int64(bitPattern: max &- value)) {
            return (1, mode == .wrap ? wrapped() : mode == .sat ? max : 0)
        }
        if incr < 0 && incr < Int64(bitPattern: 0 &- value) {
            return (-1, mode == .wrap ? wrapped() : 0)
        }
        return (0, 0)
    }

    /// Redis's checkSignedBitfieldOverflow, with its arithmetic (differences
    /// taken modulo 2^64). For SET (incr 0) of a value near Int64.min into a
    /// field narrower than 64 bits, Redis's max - value wraps negative and the
    /// value counts as overflowing upwards: SAT then stores the maximum. Kept.
    static func signedOverflow(_ value: Int64, _ incr: Int64, bits: Int, _ mode: Overflow) -> (Int, Int64) {
        let max: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let min = -max - 1
        let maxIncr = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
        let minIncr = min &- value
        @inline(__always) func wrapped() -> Int64 {
            var r = UInt64(bitPattern: value) &+ UInt64(bitPattern: incr)
            if bits < 64 {
                let high = UInt64.max << UInt64(bits)
                if r & (1 << UInt64(bits - 1)) != 0 { r |= high } else { r &= ~high }
            }
            return Int64(bitPattern: r)
        }
        if value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr) {
            return (1, mode == .wrap ? wrapped() : mode == .sat ? max : 0)
        }
        if value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr) {
            return (-1, mode == .wrap ? wrapped() : mode == .sat ? min : 0)
        }
        return (0, 0)
    }
}

extension ShardEngine {
    private enum BitfieldOpKind { case get, set, incrby }

    private struct BitfieldOp {
        var kind: BitfieldOpKind
        var signed: Bool
        var bits: Int
        var offset: Int
        var value: Int64
        var overflow: Bitfield.Overflow
    }

    /// Parses a field type ("i1".."i64", "u1".."u63"); replies the error and
    /// returns nil when invalid. Like Redis, the width ends at a NUL byte.
    private static func bitfieldTypeArg(_ c: Client, _ i: Int) -> (signed: Bool, bits: Int)? {
        let a = c.args[i]
        var signed = false
        var bits: Int64? = nil
        if a.count > 0 && (a[0] == UInt8(ascii: "i") || a[0] == UInt8(ascii: "u")) {
            signed = a[0] == UInt8(ascii: "i")
            var end = 1
            while end < a.count && a[end] != 0 { end += 1 }
            bits = parseCanonicalInt64(UnsafeRawBufferPointer(rebasing: a[1..<end]))
        }
        guard let b = bits, b >= 1, b <= (signed ? 64 : 63) else {
            c.error(static: "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
            return nil
        }
        return (signed, Int(b))
    }

    private static func replyBitfieldGet(_ c: Client, _ op: BitfieldOp, _ p: UnsafeRawPointer?, _ count: Int) {
        if op.signed {
            c.reply.integer(Bitfield.getSigned(p, count: count, offset: op.offset, bits: op.bits))
        } else {
            c.reply.integer(Int64(bitPattern: Bitfield.getUnsigned(p, count: count, offset: op.offset, bits: op.bits)))
        }
    }

    /// What a SET or INCRBY field operation stores and replies (the old value
    /// for SET, the new one for INCRBY), with the overflow rule applied.
    private static func bitfieldWrite(_ op: BitfieldOp, _ p: UnsafeMutableRawPointer, _ count: Int)
        -> (stored: UInt64, reply: Int64, changed: Bool, overflowed: Bool) {
        let incr = op.kind == .incrby
        if op.signed {
            let old = Bitfield.getSigned(p, count: count, offset: op.offset, bits: op.bits)
            let (o, limit) = incr ? Bitfield.signedOverflow(old, op.value, bits: op.bits, op.overflow)
                                  : Bitfield.signedOverflow(op.value, 0, bits: op.bits, op.overflow)
            let new = o != 0 ? limit : (incr ? old &+ op.value : op.value)
            return (UInt64(bitPattern: new), incr ? new : old, old != new, o != 0)
        }
        let old = Bitfield.getUnsigned(p, count: count, offset: op.offset, bits: op.bits)
        let v = UInt64(bitPattern: op.value)
        let (o, limit) = incr ? Bitfield.unsignedOverflow(old, op.value, bits: op.bits, op.overflow)
                              : Bitfield.unsignedOverflow(v, 0, bits: op.bits, op.overflow)
        let new = o != 0 ? limit : (incr ? old &+ v : v)
        return (new, Int64(bitPattern: incr ? new : old), old != new, o != 0)
    }

    static func bitfieldCommand(_ c: Client, readOnly: Bool) {
        let a = c.args
        var ops: [BitfieldOp] = []
        var overflow = Bitfield.Overflow.wrap
        var writes = false
        var highestBit = 0
        var j = 2
        while j < a.count {
            let remaining = a.count - j - 1
            let kind: BitfieldOpKind
            if a.equals(j, "get") && remaining >= 2 { kind = .get }
            else if a.equals(j, "set") && remaining >= 3 { kind = .set }
            else if a.equals(j, "incrby") && remaining >= 3 { kind = .incrby }
            else if a.equals(j, "overflow") && remaining >= 1 {
                if a.equals(j + 1, "wrap") { overflow = .wrap }
                else if a.equals(j + 1, "sat") { overflow = .sat }
                else if a.equals(j + 1, "fail") { overflow = .fail }
                else { c.error(static: "ERR Invalid OVERFLOW type specified"); return }
                j += 2
                continue
            } else {
                c.syntaxError()
                return
            }
            guard let type = bitfieldTypeArg(c, j + 1) else { return }
            guard let offset = bitOffsetArg(c, j + 2, fieldBits: type.bits) else { return }
            var value: Int64 = 0
            if kind != .get {
                writes = true
                highestBit = max(highestBit, offset + type.bits - 1)
                guard let v = c.intArg(j + 3) else { return }
                value = v
            }
            ops.append(BitfieldOp(kind: kind, signed: type.signed, bits: type.bits, offset: offset,
                                  value: value, overflow: overflow))
            j += kind == .get ? 3 : 4
        }

        let key = a[1]
        if !writes {
            var p: UnsafeRawPointer? = nil
            var count = 0
            switch lookupString(c, key) {
            case .wrongType: c.wrongType(); return
            case .missing: break
            case .found(let e):
                p = e.stringValue.baseAddress
                count = e.stringValue.count
            }
            c.reply.array(ops.count)
            for op in ops { replyBitfieldGet(c, op, p, count) }
            return
        }
        if readOnly {
            c.error(static: "ERR BITFIELD_RO only supports the GET subcommand")
            return
        }
        // Like Redis, the string is created or padded up to the farthest field
        // written even if every write then fails with OVERFLOW FAIL.
        guard let target = bitmapForWrite(c, key, bytes: (highestBit >> 3) + 1) else { return }
        let p = target.entry.valuePointer
        let count = target.entry.valueCount
        var changes = 0
        c.reply.array(ops.count)
        for op in ops {
            if op.kind == .get {
                replyBitfieldGet(c, op, p, count)
                continue
            }
            let w = bitfieldWrite(op, p, count)
            if w.overflowed && op.overflow == .fail {
                c.reply.null()
                continue
            }
            c.reply.integer(w.reply)
            Bitfield.set(p, offset: op.offset, bits: op.bits, value: w.stored)
            if target.grew || w.changed { changes += 1 }
        }
        if changes > 0 {
            let s = c.engine
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.string, "setbit", key, c.dbIndex)
            s.addDirty(changes)
        }
    }
}
