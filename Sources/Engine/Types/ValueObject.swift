// What every non-string value type offers the generic key commands
// (COPY, OBJECT ENCODING, MEMORY USAGE, DEBUG OBJECT, SORT, DUMP...).

public protocol ValueObject: AnyObject {
    /// Number of elements (list items, hash fields, set members, zset members).
    var count: Int { get }
    /// Redis's OBJECT ENCODING name for the current representation.
    var encodingName: StaticString { get }
    /// A deep copy (COPY command).
    func duplicate() -> Self

    // SORT / SORT_RO support (defaults below: "not sortable").
    /// The elements SORT sorts, in the type's natural order: a list's order,
    /// a sorted set's rank order (ascending score), any order for a set.
    func sortElements() -> [[UInt8]]
    /// SORT BY/GET "pattern->field": the value of hash field `field`, or nil.
    func sortHashField(_ field: UnsafeRawBufferPointer) -> [UInt8]?
    /// SORT ... STORE: a new value holding `elements` in this order, with the
    /// encoding the type would choose for them (lists; others return nil).
    static func fromSortResult(_ elements: [[UInt8]], config: Config) -> Self?
}

extension ValueObject {
    public func sortElements() -> [[UInt8]] { [] }
    public func sortHashField(_ field: UnsafeRawBufferPointer) -> [UInt8]? { nil }
    public static func fromSortResult(_ elements: [[UInt8]], config: Config) -> Self? { nil }
}

extension Entry {
    /// The value object of a non-string entry.
    @inline(__always) public var valueObject: ValueObject { object as! ValueObject }

    /// OBJECT ENCODING of this entry.
    public var encodingName: StaticString {
        if type == .string {
            switch StringEncoding(rawValue: encodingRaw) ?? .raw {
            case .int: return "int"
            case .embstr: return "embstr"
            case .raw: return "raw"
            }
        }
        return valueObject.encodingName
    }
}
