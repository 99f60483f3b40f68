// Placeholder: the Set type is being written.

public final class SetValue: ValueObject {
    public init() {}
    public var count: Int { 0 }
    public var encodingName: StaticString { "unknown" }
    public func duplicate() -> SetValue { SetValue() }
}
