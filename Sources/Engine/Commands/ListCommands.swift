extension Server {
    static func listCommands() -> [Command] {
        []
    }
}
