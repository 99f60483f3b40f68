// The commands that recreate a stream (AOF rewrite without an RDB preamble),
// as Redis 7.0's rewriteStreamObject: one XADD per entry (an empty stream via
// XADD MAXLEN 0), XSETID with the last ID, entries-added and max deleted ID,
// then per group XGROUP CREATE ... ENTRIESREAD, XCLAIM ... JUSTID FORCE per
// pending entry and XGROUP CREATECONSUMER for consumers without any.

extension StreamValue {
    public func rewriteCommands(key: [UInt8], _ emit: ([[UInt8]]) -> Void) {
        func s(_ t: StaticString) -> [UInt8] { Array(UnsafeRawBufferPointer(start: t.utf8Start, count: t.utf8CodeUnitCount)) }
        if length > 0 {
            forEachEntry(from: .zero, to: .max) { id, f in
                var argv: [[UInt8]] = [s("XADD"), key, id.text]
                argv.reserveCapacity(3 + 2 * f.count)
                f.forEach { fe, ve in
                    Listpack.withBytes(fe) { argv.append(Array($0)) }
                    Listpack.withBytes(ve) { argv.append(Array($0)) }
                }
                emit(argv)
                return true
            }
        } else {
            emit([s("XADD"), key, s("MAXLEN"), s("0"), s("0-1"), s("x"), s("y")])
        }
        emit([s("XSETID"), key, lastID.text, s("ENTRIESADDED"), decimalBytes(Int64(bitPattern: entriesAdded)),
              s("MAXDELETEDID"), maxDeletedID.text])
        for g in groups {
            emit([s("XGROUP"), s("CREATE"), key, g.name, g.lastID.text, s("ENTRIESREAD"), decimalBytes(g.entriesRead)])
            for c in g.consumers {
                if c.pel.isEmpty {
                    emit([s("XGROUP"), s("CREATECONSUMER"), key, g.name, c.name])
                    continue
                }
                c.pel.forEach { id, _ in
                    let n = g.pel.find(id)
                    emit([s("XCLAIM"), key, g.name, c.name, s("0"), id.text, s("TIME"), decimalBytes(n?.deliveryTime ?? 0),
                          s("RETRYCOUNT"), decimalBytes(n?.deliveryCount ?? 0), s("JUSTID"), s("FORCE")])
                    return true
                }
            }
        }
    }
}
