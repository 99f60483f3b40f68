// What DEBUG and MEMORY learn from streams: the content digest (entries as
// "ms.seq", fields and values, in order, like Redis's xorObjectDigest), the
// RDB size (the exact STREAM_LISTPACKS_2 encoding) and the memory used.

import CJemalloc

extension StreamValue: DebugInspectable, MemoryMeasurable {
    public func debugDigest(into d: inout DebugDigest) {
        forEachEntry(from: .zero, to: .max) { id, f in
            d.mix("\(id.ms).\(id.seq)")
            f.forEach { fe, ve in
                Listpack.withBytes(fe) { d.mix($0) }
                Listpack.withBytes(ve) { d.mix($0) }
            }
            return true
        }
    }

    public var debugSerializedLength: Int {
        var w = RDBWriter(compress: false)
        ValueSerializer.writeStream(self, into: &w)
        return w.bytes.count - 1
    }

    public func memoryUsage(samples: Int) -> Int {
        malloc_usable_size(Unmanaged.passUnretained(self).toOpaque()) + allocatedBytes
    }
}
