// Placeholder: the Hash type is being written.

public final class HashValue: ValueObject {
    public init() {}
    public var count: Int { 0 }
    public var encodingName: StaticString { "unknown" }
    public func duplicate() -> HashValue { HashValue() }
}
