// Plugin data types (CreateDataType and the ModuleType* key functions) and
// RedisModuleIO: the RDB value format Redis 7.0 writes for module types
// (RDB_TYPE_MODULE_2: the 64-bit type id, then each Save* call as an opcode
// and its value, then the EOF opcode) and AOF rewrites through EmitAOF.

import CModuleABI
import Engine
import Glibc

let OPCODE_EOF = 0, OPCODE_SINT = 1, OPCODE_UINT = 2, OPCODE_FLOAT = 3, OPCODE_DOUBLE = 4, OPCODE_STRING = 5

/// The 64-bit id of a module type: 9 characters of 6 bits, then the 10-bit
/// encoding version (Redis's moduleTypeEncodeId). Nil if the name is invalid.
public func moduleTypeID(name: String, encver: Int) -> UInt64? {
    let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    let n = Array(name.utf8)
    guard n.count == 9, encver >= 0, encver <= 1023 else { return nil }
    var id: UInt64 = 0
    for ch in n {
        guard let pos = charset.firstIndex(of: ch) else { return nil }
        id = (id << 6) | UInt64(pos)
    }
    return (id << 10) | UInt64(encver)
}

final class PluginType: ModuleTypeHandle {
    let module: PluginModule
    let typeName: String
    let encver: Int
    let typeID: UInt64
    let methods: TSMTypeMethods

    init(module: PluginModule, name: String, encver: Int, id: UInt64, methods: TSMTypeMethods) {
        self.module = module; self.typeName = name; self.encver = encver; self.typeID = id; self.methods = methods
    }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    func rdbSave(_ value: UnsafeMutableRawPointer?, into w: inout RDBWriter) {
        let io = PluginIO(type: self, writer: RDBWriter(compress: w.compress))
        if let fn = methods.rdb_save {
            withExtendedLifetime(io) { tsm_call_rdb_save(fn, io.opaque, value) }
        }
        io.finish()
        w.raw(io.writer.bytes)
        w.length(OPCODE_EOF)
    }

    func rdbLoad(_ r: inout RDBReader, encver: Int) throws -> UnsafeMutableRawPointer? {
        guard let fn = methods.rdb_load else { throw RDBError("The module type '\(typeName)' cannot load RDB data") }
        let io = PluginIO(type: self, reader: r)
        let v = withExtendedLifetime(io) { tsm_call_rdb_load(fn, io.opaque, Int32(encver)) }
        io.finish()
        if io.error || v == nil {
            if let v = v, let free = methods.free { tsm_call_free(free, v) }
            throw RDBError("Error loading the value of module type '\(typeName)' (short read or bad data)")
        }
        guard var rd = io.reader, (try? rd.length64()) == UInt64(OPCODE_EOF) else {
            if let free = methods.free { tsm_call_free(free, v) }
            throw RDBError("The RDB file contains module data for the module '\(typeName)' that is not terminated by the proper module value EOF marker")
        }
        r = rd
        return v
    }

    func aofRewrite(key: [UInt8], _ value: UnsafeMutableRawPointer?, emit: ([[UInt8]]) -> Void) {
        guard let fn = methods.aof_rewrite else { return }
        withoutActuallyEscaping(emit) { emit in
            let io = PluginIO(type: self, emit: emit)
            let k = newString(nil, key)
            io.key = k
            withExtendedLifetime(io) { tsm_call_aof_rewrite(fn, io.opaque, k, value) }
            io.finish()
            tsm_string_release(k)
        }
    }

    func memoryUsage(_ value: UnsafeMutableRawPointer?) -> Int {
        guard let fn = methods.mem_usage else { return 0 }
        return tsm_call_mem_usage(fn, value)
    }

    func copy(_ value: UnsafeMutableRawPointer?, from: [UInt8], to: [UInt8]) -> UnsafeMutableRawPointer? {
        guard let fn = methods.copy else { return nil }
        let f = newString(nil, from), t = newString(nil, to)
        defer { tsm_string_release(f); tsm_string_release(t) }
        return tsm_call_copy(fn, f, t, value)
    }

    func free(_ value: UnsafeMutableRawPointer?) {
        guard let fn = methods.free, let v = value else { return }
        tsm_call_free(fn, v)
    }
}

/// RedisModuleIO: an RDB writer or reader, or an AOF emitter.
final class PluginIO {
    let type: PluginType
    var writer = RDBWriter()
    var reader: RDBReader? = nil
    var emit: (([[UInt8]]) -> Void)? = nil
    var error = false
    var key: RMString? = nil
    var ctx: Ctx? = nil

    init(type: PluginType, writer: RDBWriter) { self.type = type; self.writer = writer }
    init(type: PluginType, reader: RDBReader) { self.type = type; self.reader = reader }
    init(type: PluginType, emit: @escaping ([[UInt8]]) -> Void) { self.type = type; self.emit = emit }

    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
    static func from(_ p: UnsafeMutableRawPointer?) -> PluginIO? {
        p.map { Unmanaged<PluginIO>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Releases the context GetContextFromIO made.
    func finish() {
        if let c = ctx {
            tsm_ctx_finish(c)
            c.deallocate()
            ctx = nil
        }
    }

    /// Reads an opcode and checks it is `expected`.
    func expect(_ expected: Int) -> Bool {
        guard !error, reader != nil else { error = true; return false }
        guard let op = try? reader!.length64(), op == UInt64(expected) else { error = true; return false }
        return true
    }
}

@_cdecl("RMX_CreateDataType")
func RMX_CreateDataType(_ ctx: Ctx?, _ name: UnsafePointer<CChar>?, _ encver: Int32,
                        _ tm: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let host = ctxHost(ctx)
    guard let m = ctxModule(ctx), host.loading === m, let tm = tm else { return nil }
    let n = cString(name)
    guard let id = moduleTypeID(name: n, encver: Int(encver)), host.engine.moduleTypes.named(n) == nil else { return nil }
    // Copy as many fields as the declared version has.
    var methods = TSMTypeMethods()
    let version = tm.load(as: UInt64.self)
    let size: Int
    switch version {
    case 1: size = MemoryLayout<TSMTypeMethods>.offset(of: \.aux_load)!
    case 2: size = MemoryLayout<TSMTypeMethods>.offset(of: \.free_effort)!
    case 3: size = MemoryLayout<TSMTypeMethods>.offset(of: \.mem_usage2)!
    default: size = MemoryLayout<TSMTypeMethods>.size
    }
    withUnsafeMutableBytes(of: &methods) { $0.baseAddress!.copyMemory(from: tm, byteCount: size) }
    let t = PluginType(module: m, name: n, encver: Int(encver), id: id, methods: methods)
    m.types.append(t)
    host.engine.moduleTypes.register(t, id: id, name: n)
    return t.opaque
}

private func ptype(_ p: UnsafeMutableRawPointer?) -> PluginType? {
    p.map { Unmanaged<PluginType>.fromOpaque($0).takeUnretainedValue() }
}

@_cdecl("RMX_ModuleTypeSetValue")
func RMX_ModuleTypeSetValue(_ p: UnsafeMutableRawPointer?, _ mt: UnsafeMutableRawPointer?, _ value: UnsafeMutableRawPointer?) -> Int32 {
    guard let k = pkey(p), k.writable, let t = ptype(mt) else { return TSM_ERR }
    let v = ModuleValue(type: t, value: value)
    k.key.withUnsafeBytes { k.engine.setObject(k.db, $0, v, type: .module) }
    k.modified()
    return TSM_OK
}

@_cdecl("RMX_ModuleTypeGetType")
func RMX_ModuleTypeGetType(_ p: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let k = pkey(p), let e = k.entry(), e.type == .module, let m = e.object as? ModuleValue,
          let t = m.moduleType as? PluginType else { return nil }
    return t.opaque
}

@_cdecl("RMX_ModuleTypeGetValue")
func RMX_ModuleTypeGetValue(_ p: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let k = pkey(p), let e = k.entry(), e.type == .module, let m = e.object as? ModuleValue else { return nil }
    return m.value
}

@_cdecl("RMX_ModuleTypeReplaceValue")
func RMX_ModuleTypeReplaceValue(_ p: UnsafeMutableRawPointer?, _ mt: UnsafeMutableRawPointer?, _ newValue: UnsafeMutableRawPointer?,
                                _ oldValue: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    guard let k = pkey(p), k.writable, let e = k.entry(), e.type == .module, let m = e.object as? ModuleValue,
          let t = ptype(mt), m.moduleType === t else { return TSM_ERR }
    oldValue?.pointee = m.value
    m.value = newValue
    k.modified()
    return TSM_OK
}

// MARK: RDB I/O

@_cdecl("RMX_SaveUnsigned")
func RMX_SaveUnsigned(_ p: UnsafeMutableRawPointer?, _ v: UInt64) {
    guard let io = PluginIO.from(p) else { return }
    io.writer.length(OPCODE_UINT)
    io.writer.length64(v)
}

@_cdecl("RMX_LoadUnsigned")
func RMX_LoadUnsigned(_ p: UnsafeMutableRawPointer?) -> UInt64 {
    guard let io = PluginIO.from(p), io.expect(OPCODE_UINT) else { return 0 }
    guard let v = try? io.reader!.length64() else { io.error = true; return 0 }
    return v
}

@_cdecl("RMX_SaveSigned")
func RMX_SaveSigned(_ p: UnsafeMutableRawPointer?, _ v: Int64) {
    guard let io = PluginIO.from(p) else { return }
    io.writer.length(OPCODE_SINT)
    io.writer.length64(UInt64(bitPattern: v))
}

@_cdecl("RMX_LoadSigned")
func RMX_LoadSigned(_ p: UnsafeMutableRawPointer?) -> Int64 {
    guard let io = PluginIO.from(p), io.expect(OPCODE_SINT) else { return 0 }
    guard let v = try? io.reader!.length64() else { io.error = true; return 0 }
    return Int64(bitPattern: v)
}

@_cdecl("RMX_SaveStringBuffer")
func RMX_SaveStringBuffer(_ p: UnsafeMutableRawPointer?, _ s: UnsafePointer<CChar>?, _ len: Int) {
    guard let io = PluginIO.from(p) else { return }
    io.writer.length(OPCODE_STRING)
    io.writer.string(UnsafeRawBufferPointer(start: s, count: s == nil ? 0 : len))
}

@_cdecl("RMX_SaveString")
func RMX_SaveString(_ p: UnsafeMutableRawPointer?, _ s: RMString?) {
    let b = stringBuffer(s)
    RMX_SaveStringBuffer(p, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count)
}

private func loadBytes(_ p: UnsafeMutableRawPointer?) -> [UInt8]? {
    guard let io = PluginIO.from(p), io.expect(OPCODE_STRING) else { return nil }
    guard let b = try? io.reader!.string() else { io.error = true; return nil }
    return b
}

@_cdecl("RMX_LoadString")
func RMX_LoadString(_ p: UnsafeMutableRawPointer?) -> RMString? {
    guard let b = loadBytes(p) else { return nil }
    return newString(nil, b)
}

@_cdecl("RMX_LoadStringBuffer")
func RMX_LoadStringBuffer(_ p: UnsafeMutableRawPointer?, _ lenptr: UnsafeMutablePointer<Int>?) -> UnsafeMutablePointer<CChar>? {
    guard let b = loadBytes(p) else { lenptr?.pointee = 0; return nil }
    // Allocated with malloc: the plugin frees it with RedisModule_Free.
    let buf = malloc(max(b.count, 1))!.assumingMemoryBound(to: CChar.self)
    b.withUnsafeBytes { if $0.count > 0 { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    lenptr?.pointee = b.count
    return buf
}

@_cdecl("RMX_SaveDouble")
func RMX_SaveDouble(_ p: UnsafeMutableRawPointer?, _ v: Double) {
    guard let io = PluginIO.from(p) else { return }
    io.writer.length(OPCODE_DOUBLE)
    io.writer.binaryDouble(v)
}

@_cdecl("RMX_LoadDouble")
func RMX_LoadDouble(_ p: UnsafeMutableRawPointer?) -> Double {
    guard let io = PluginIO.from(p), io.expect(OPCODE_DOUBLE) else { return 0 }
    guard let v = try? io.reader!.binaryDouble() else { io.error = true; return 0 }
    return v
}

@_cdecl("RMX_SaveFloat")
func RMX_SaveFloat(_ p: UnsafeMutableRawPointer?, _ v: Float) {
    guard let io = PluginIO.from(p) else { return }
    io.writer.length(OPCODE_FLOAT)
    withUnsafeBytes(of: v.bitPattern.littleEndian) { io.writer.bytes.append(contentsOf: $0) }
}

@_cdecl("RMX_LoadFloat")
func RMX_LoadFloat(_ p: UnsafeMutableRawPointer?) -> Float {
    guard let io = PluginIO.from(p), io.expect(OPCODE_FLOAT) else { return 0 }
    guard let b = try? io.reader!.take(4) else { io.error = true; return 0 }
    var bits: UInt32 = 0
    for (i, x) in b.enumerated() { bits |= UInt32(x) << (8 * UInt32(i)) }
    return Float(bitPattern: bits)
}

/// Long doubles travel as a string (C's "%La" hex form), as Redis saves them.
@_cdecl("RMX_SaveLongDouble")
func RMX_SaveLongDouble(_ p: UnsafeMutableRawPointer?, _ v: Float80) {
    var buf = [CChar](repeating: 0, count: 128)
    let n = tsm_format_long_double_hex(&buf, 128, v)
    RMX_SaveStringBuffer(p, buf, Int(n))
}

@_cdecl("RMX_LoadLongDouble")
func RMX_LoadLongDouble(_ p: UnsafeMutableRawPointer?) -> Float80 {
    guard var b = loadBytes(p) else { return 0 }
    b.append(0)
    return b.withUnsafeBytes { strtold($0.baseAddress!.assumingMemoryBound(to: CChar.self), nil) }
}

@_cdecl("RMX_GetContextFromIO")
func RMX_GetContextFromIO(_ p: UnsafeMutableRawPointer?) -> Ctx? {
    guard let io = PluginIO.from(p) else { return nil }
    if let c = io.ctx { return c }
    let c = Ctx.allocate(capacity: 1)
    tsm_ctx_init(c, io.type.module.opaque, nil)
    io.ctx = c
    return c
}

@_cdecl("RMX_GetKeyNameFromIO")
func RMX_GetKeyNameFromIO(_ p: UnsafeMutableRawPointer?) -> RMString? { PluginIO.from(p)?.key }

@_cdecl("RMX_GetDbIdFromIO")
func RMX_GetDbIdFromIO(_ p: UnsafeMutableRawPointer?) -> Int32 { 0 }

@_cdecl("RMX_IsIOError")
func RMX_IsIOError(_ p: UnsafeMutableRawPointer?) -> Int32 { PluginIO.from(p)?.error == true ? 1 : 0 }

@_cdecl("RMX_EmitAOFArgv")
func RMX_EmitAOFArgv(_ p: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ argv: UnsafeMutablePointer<RMString?>?, _ argc: Int32) {
    guard let io = PluginIO.from(p), let emit = io.emit else { return }
    var all: [[UInt8]] = [Array(cString(name).utf8)]
    for i in 0..<Int(argc) { all.append(stringBytes(argv?[i])) }
    emit(all)
}
