extension Server {
    static func transactionCommands() -> [Command] {
        []
    }
}
