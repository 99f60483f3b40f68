extension Server {
    static func keyCommands() -> [Command] {
        []
    }
}
