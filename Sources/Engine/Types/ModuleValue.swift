// Values of data types that plugins define (Redis's module types). The engine
// stores them like any other object and knows nothing of their content: the
// plugin host (PluginHost target) implements `ModuleTypeHandle`, which saves,
// loads, rewrites, measures, copies and frees the plugin's opaque pointer.

/// A data type registered by a plugin (RedisModule_CreateDataType).
public protocol ModuleTypeHandle: AnyObject {
    /// The 9-character name (TYPE replies it).
    var typeName: String { get }
    /// The 64-bit RDB type id: 9 name characters of 6 bits and a 10-bit encoding version.
    var typeID: UInt64 { get }
    /// Writes the value (everything after the type id) in RDB's module format.
    func rdbSave(_ value: UnsafeMutableRawPointer?, into w: inout RDBWriter)
    /// Reads a value written with `encver` (the type id was consumed).
    func rdbLoad(_ r: inout RDBReader, encver: Int) throws -> UnsafeMutableRawPointer?
    /// The commands that rebuild the value (AOF rewrite); empty if the type cannot.
    func aofRewrite(key: [UInt8], _ value: UnsafeMutableRawPointer?, emit: ([[UInt8]]) -> Void)
    /// Bytes used by the value (MEMORY USAGE), 0 if the type does not say.
    func memoryUsage(_ value: UnsafeMutableRawPointer?) -> Int
    /// A deep copy (COPY), nil if the type cannot copy.
    func copy(_ value: UnsafeMutableRawPointer?, from: [UInt8], to: [UInt8]) -> UnsafeMutableRawPointer?
    /// Releases the value.
    func free(_ value: UnsafeMutableRawPointer?)
}

/// The value of a key holding a plugin data type.
public final class ModuleValue: ValueObject, MemoryMeasurable {
    public let moduleType: ModuleTypeHandle
    public var value: UnsafeMutableRawPointer?

    public init(type: ModuleTypeHandle, value: UnsafeMutableRawPointer?) {
        self.moduleType = type
        self.value = value
    }

    deinit { moduleType.free(value) }

    public var count: Int { 1 }
    public var encodingName: StaticString { "raw" }

    public func duplicate() -> Self {
        let v = moduleType.copy(value, from: [], to: [])
        return ModuleValue(type: moduleType, value: v) as! Self
    }

    public func memoryUsage(samples: Int) -> Int { instanceSize(self) + moduleType.memoryUsage(value) }
}

/// The module types plugins registered with the engine, by RDB type id and
/// by name, for the loaders (RDB files, RESTORE payloads).
public final class ModuleTypeRegistry {
    private var byID: [UInt64: ModuleTypeHandle] = [:]
    /// By the name part of the id (any encoding version).
    private var byName: [String: ModuleTypeHandle] = [:]

    public init() {}

    public func register(_ t: ModuleTypeHandle, id: UInt64, name: String) {
        byID[id] = t
        byName[name] = t
    }

    public func unregister(id: UInt64, name: String) {
        byID[id] = nil
        byName[name] = nil
    }

    public func named(_ name: String) -> ModuleTypeHandle? { byName[name] }

    /// The type for a value's id; a type registered with another encoding
    /// version loads it too (its rdb_load gets the value's version).
    func lookup(_ id: UInt64) -> ModuleTypeHandle? {
        if let t = byID[id] { return t }
        return byName[ValueSerializer.moduleTypeName(id).0]
    }
}
