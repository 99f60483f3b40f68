extension Server {
    static func zsetCommands() -> [Command] {
        []
    }
}
