extension Server {
    static func hashCommands() -> [Command] {
        []
    }
}
