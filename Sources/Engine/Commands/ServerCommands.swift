extension Server {
    static func serverCommands() -> [Command] {
        []
    }
}
