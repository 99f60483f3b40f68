// Placeholder: the List type is being written.

public final class ListValue: ValueObject {
    public init() {}
    public var count: Int { 0 }
    public var encodingName: StaticString { "unknown" }
    public func duplicate() -> ListValue { ListValue() }
}
