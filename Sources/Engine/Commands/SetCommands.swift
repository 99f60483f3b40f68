extension Server {
    static func setCommands() -> [Command] {
        []
    }
}
