// Placeholder: the ZSet type is being written.

public final class ZSetValue: ValueObject {
    public init() {}
    public var count: Int { 0 }
    public var encodingName: StaticString { "unknown" }
    public func duplicate() -> ZSetValue { ZSetValue() }
}
