// Bitmap commands on string values (Redis's bitops.c): SETBIT, GETBIT,
// BITCOUNT, BITPOS and BITOP. BITFIELD is in BitfieldCommand.swift, the word
// kernels (popcount, first set/clear bit, AND/OR/XOR/NOT) in BitmapKernels.swift.
//
// Bit 0 is the most significant bit of the first byte. Writes change the
// key's entry in place and grow it with realloc (zero padded), so SETBIT on a
// large bitmap does not copy it.

import Glibc

extension ShardEngine {
    static func bitmapCommands() -> [Command] {
        let w: CommandFlags = [.write, .denyOOM]
        return [
            Command("setbit", arity: 4, flags: w, keys: (1, 1, 1), group: .bitmap, since: "2.2.0", handler: setbitCommand),
            Command("getbit", arity: 3, flags: [.readonly, .fast], keys: (1, 1, 1), group: .bitmap, since: "2.2.0",
                    handler: getbitCommand),
            Command("bitcount", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: .bitmap, since: "2.6.0",
                    handler: bitcountCommand),
            Command("bitpos", arity: -3, flags: [.readonly], keys: (1, 1, 1), group: .bitmap, since: "2.8.7",
                    handler: bitposCommand),
            Command("bitop", arity: -4, flags: w, keys: (2, -1, 1), group: .bitmap, since: "2.6.0", handler: bitopCommand),
            Command("bitfield", arity: -2, flags: w, keys: (1, 1, 1), group: .bitmap, since: "3.2.0",
                    handler: { bitfieldCommand($0, readOnly: false) }),
            Command("bitfield_ro", arity: -2, flags: [.readonly, .fast], keys: (1, 1, 1), group: .bitmap, since: "6.0.0",
                    handler: { bitfieldCommand($0, readOnly: true) }),
        ]
    }

    // MARK: shared helpers

    /// The largest bitmap, in bytes, that a bit offset may address: Redis's
    /// proto-max-bulk-len, capped so that the string still fits an entry
    /// (UInt32 lengths) when BITFIELD writes up to 8 bytes past that byte.
    static func maxBitmapBytes(_ c: Client) -> Int {
        min(c.engine.config.protoMaxBulkLen, Int(UInt32.max) - 8)
    }

    /// Parses the bit offset argument `i` as Redis's getBitOffsetFromArgument;
    /// replies the error and returns nil when it is not an integer, negative or
    /// beyond the size limit. With `fieldBits` > 0 (BITFIELD), "#N" means
    /// N * fieldBits; like Redis, that product wraps around on overflow.
    static func bitOffsetArg(_ c: Client, _ i: Int, fieldBits: Int = 0) -> Int? {
        let a = c.args[i]
        let parsed: Int64?
        if fieldBits > 0 && a.count > 0 && a[0] == UInt8(ascii: "#") {
            parsed = parseCanonicalInt64(UnsafeRawBufferPointer(rebasing: a[1...])).map { $0 &* Int64(fieldBits) }
        } else {
            parsed = parseCanonicalInt64(a)
        }
        guard let v = parsed, v >= 0, (v >> 3) < Int64(maxBitmapBytes(c)) else {
            c.error(static: "ERR bit offset is not an integer or out of range")
            return nil
        }
        return Int(v)
    }

    /// Redis's lookupStringForBitCommand: the string at `key`, created or zero
    /// padded to at least `bytes` bytes, ready to be changed in place (its
    /// encoding becomes raw, as Redis's dbUnshareStringValue does). Nil after an
    /// error reply (WRONGTYPE). `grew`: the key was created or lengthened.
    static func bitmapForWrite(_ c: Client, _ key: UnsafeRawBufferPointer, bytes: Int) -> (entry: Entry, grew: Bool)? {
        let s = c.engine, db = c.db
        var created = false
        if let e = s.lookupWrite(db, key) {
            if e.type != .string { c.wrongType(); return nil }
            e.encodingRaw = StringEncoding.raw.rawValue
            e.lru = s.accessStamp
            if e.valueCount >= bytes { return (e, false) }
        } else {
            s.setString(db, key, UnsafeRawBufferPointer(start: nil, count: 0), encoding: .raw)
            created = true
        }
        let slot = db.find(key)
        guard let grown = db.entry(atSlot: slot).grownString(to: bytes) else {
            if created { s.deleteKey(db, key) }
            c.error(static: "ERR out of memory growing the bitmap")
            return nil
        }
        db.moved(slot: slot, to: grown)
        return (grown, true)
    }

    // MARK: SETBIT / GETBIT

    static func setbitCommand(_ c: Client) {
        guard let offset = bitOffsetArg(c, 2) else { return }
        guard let on = c.args.int64(3), on & ~1 == 0 else {
            c.error(static: "ERR bit is not an integer or out of range")
            return
        }
        let key = c.args[1]
        guard let target = bitmapForWrite(c, key, bytes: (offset >> 3) + 1) else { return }
        let p = target.entry.valuePointer.assumingMemoryBound(to: UInt8.self) + (offset >> 3)
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        let wasSet = p.pointee & mask != 0
        if target.grew || wasSet != (on == 1) {
            if on == 1 { p.pointee |= mask } else { p.pointee &= ~mask }
            let s = c.engine
            s.signalModifiedKey(c.db, key)
            s.notifyKeyspaceEvent(.string, "setbit", key, c.dbIndex)
            s.addDirty()
        }
        c.reply.integer(wasSet ? 1 : 0)
    }

    static func getbitCommand(_ c: Client) {
        guard let offset = bitOffsetArg(c, 2) else { return }
        switch lookupString(c, c.args[1]) {
        case .missing: c.reply.integer(0)
        case .wrongType: c.wrongType()
        case .found(let e):
            let v = e.stringValue
            let byte = offset >> 3
            let set = byte < v.count && v[byte] & (UInt8(0x80) >> UInt8(offset & 7)) != 0
            c.reply.integer(set ? 1 : 0)
        }
    }

    // MARK: BITCOUNT / BITPOS

    /// Resolves a start/end pair (negative: from the end) over `total` units,
    /// as BITCOUNT and BITPOS do; nil when the range is empty.
    private static func clampRange(_ start: Int64, _ end: Int64, total: Int64) -> (Int64, Int64)? {
        var s = start, e = end
        if s < 0 { s += total }  // total >= 0, so these cannot overflow
        if e < 0 { e += total }
        if s < 0 { s = 0 }
        if e < 0 { e = 0 }
        if e >= total { e = total - 1 }
        return s > e ? nil : (s, e)
    }

    /// Parses BYTE|BIT at argument `i`: true for BIT; nil after a syntax error reply.
    private static func indexUnitArg(_ c: Client, _ i: Int) -> Bool? {
        if c.args.equals(i, "bit") { return true }
        if c.args.equals(i, "byte") { return false }
        c.syntaxError()
        return nil
    }

    static func bitcountCommand(_ c: Client) {
        let a = c.args
        let v: UnsafeRawBufferPointer
        switch lookupString(c, a[1]) {
        case .missing: c.reply.integer(0); return
        case .wrongType: c.wrongType(); return
        case .found(let e): v = e.stringValue
        }
        var firstBit = 0, lastBit = v.count * 8 - 1
        if a.count == 4 || a.count == 5 {
            guard let start = c.intArg(2), let end = c.intArg(3) else { return }
            // Checked before the unit argument, as Redis does.
            if start < 0 && end < 0 && start > end { c.reply.integer(0); return }
            var isBit = false
            if a.count == 5 {
                guard let u = indexUnitArg(c, 4) else { return }
                isBit = u
            }
            guard let r = clampRange(start, end, total: Int64(v.count) * (isBit ? 8 : 1)) else {
                c.reply.integer(0)
                return
            }
            if isBit { firstBit = Int(r.0); lastBit = Int(r.1) } else { firstBit = Int(r.0) * 8; lastBit = Int(r.1) * 8 + 7 }
        } else if a.count != 2 {
            c.syntaxError()
            return
        }
        c.reply.integer(BitmapKernels.countBits(v, from: firstBit, through: lastBit))
    }

    static func bitposCommand(_ c: Client) {
        let a = c.args
        guard let bit = c.intArg(2) else { return }
        if bit != 0 && bit != 1 { c.error(static: "ERR The bit argument must be 1 or 0."); return }
        let v: UnsafeRawBufferPointer
        switch lookupString(c, a[1]) {
        // A missing key is an endless run of zeros.
        case .missing: c.reply.integer(bit == 1 ? -1 : 0); return
        case .wrongType: c.wrongType(); return
        case .found(let e): v = e.stringValue
        }
        var endGiven = false
        var firstBit = 0, lastBit = v.count * 8 - 1
        if a.count >= 4 && a.count <= 6 {
            guard let start = c.intArg(3) else { return }
            var isBit = false
            if a.count == 6 {
                guard let u = indexUnitArg(c, 5) else { return }
                isBit = u
            }
            var end = Int64(v.count) - 1
            if a.count >= 5 {
                guard let e = c.intArg(4) else { return }
                end = e
                endGiven = true
            }
            guard let r = clampRange(start, end, total: Int64(v.count) * (isBit ? 8 : 1)) else {
                c.reply.integer(-1)
                return
            }
            if isBit { firstBit = Int(r.0); lastBit = Int(r.1) } else { firstBit = Int(r.0) * 8; lastBit = Int(r.1) * 8 + 7 }
        } else if a.count != 3 {
            c.syntaxError()
            return
        }
        if firstBit > lastBit { c.reply.integer(-1); return }
        let pos = BitmapKernels.firstBit(v, bit == 1, from: firstBit, through: lastBit)
        if pos >= 0 {
            c.reply.integer(pos)
        } else if bit == 0 && !endGiven {
            // Without an explicit end the string counts as padded with zeros.
            c.reply.integer(lastBit + 1)
        } else {
            c.reply.integer(-1)
        }
    }

    // MARK: BITOP

    static func bitopCommand(_ c: Client) {
        let a = c.args
        let op: BitmapKernels.Op
        if a.equals(1, "and") { op = .and }
        else if a.equals(1, "or") { op = .or }
        else if a.equals(1, "xor") { op = .xor }
        else if a.equals(1, "not") { op = .not }
        else { c.syntaxError(); return }
        if op == .not && a.count != 4 {
            c.error(static: "ERR BITOP NOT must be called with a single source key.")
            return
        }
        // Entries stay put while other keys are looked up (an expired key only
        // frees its own entry), so the views stay valid until the store.
        var sources: [UnsafeRawBufferPointer] = []
        sources.reserveCapacity(a.count - 3)
        var maxLength = 0
        for j in 3..<a.count {
            switch lookupString(c, a[j]) {
            case .missing: sources.append(UnsafeRawBufferPointer(start: nil, count: 0))
            case .wrongType: c.wrongType(); return
            case .found(let e):
                sources.append(e.stringValue)
                maxLength = max(maxLength, e.stringValue.count)
            }
        }
        let s = c.engine
        let dest = a[2]
        if maxLength == 0 {
            if s.deleteKey(c.db, dest) {
                s.signalModifiedKey(c.db, dest)
                s.notifyKeyspaceEvent(.generic, "del", dest, c.dbIndex)
                s.addDirty()
            }
            c.reply.integer(0)
            return
        }
        let result = UnsafeMutableRawBufferPointer.allocate(byteCount: maxLength, alignment: 8)
        defer { result.deallocate() }
        BitmapKernels.combine(op, sources, into: result)
        s.setString(c.db, dest, UnsafeRawBufferPointer(result), encoding: .raw)
        s.signalModifiedKey(c.db, dest)
        s.notifyKeyspaceEvent(.string, "set", dest, c.dbIndex)
        s.addDirty()
        c.reply.integer(maxLength)
    }
}
