// What every non-string value type offers the generic key commands
// (COPY, OBJECT ENCODING, MEMORY USAGE, DEBUG OBJECT, SORT, DUMP...).

public protocol ValueObject: AnyObject {
    /// Number of elements (list items, hash fields, set members, zset members).
    var count: Int { get }
    /// Redis's OBJECT ENCODING name for the current representation.
    var encodingName: StaticString { get }
    /// A deep copy (COPY command).
    func duplicate() -> Self
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
