// tessera-server [config-file] [--name value ...]
//
// Runs one shard in-process on the configured port (the supervisor issue
// turns this into a supervisor spawning shard workers).

import Foundation
import Engine
import Persistence
import ShardRuntime
import Supervisor
import Logging

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "-v" || arguments.first == "--version" {
    print("Tessera server v=\(Server.tesseraVersion) redis_compat=\(Server.redisVersion)")
    exit(0)
}
// Offline checkers, like redis-check-rdb and redis-check-aof.
if arguments.first == "--check-rdb" && arguments.count == 2 {
    exit(FileChecker.checkRDB(arguments[1]) { print($0) })
}
if arguments.first == "--check-aof" && (arguments.count == 2 || (arguments.count == 3 && arguments[1] == "--fix")) {
    exit(FileChecker.checkAOF(arguments.last!, fix: arguments.count == 3) { print($0) })
}
if arguments.first == "-h" || arguments.first == "--help" {
    print("""
    Usage: tessera-server [/path/to/tessera.conf] [options]
           tessera-server -v or --version
           tessera-server -h or --help
           tessera-server --check-rdb <file.rdb>
           tessera-server --check-aof [--fix] <manifest|appendonlydir|file.aof>

    Examples:
           tessera-server (run the server with default config)
           tessera-server /etc/tessera/tessera.conf
           tessera-server --port 7777
           tessera-server /etc/tessera/tessera.conf --loglevel verbose --save ""
    """)
    exit(0)
}

let config = Config()
var configFile: String? = nil
var rest = arguments
if let first = rest.first, !first.hasPrefix("--") {
    configFile = first
    rest.removeFirst()
}
do {
    if let path = configFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            FileHandle.standardError.write("Fatal error, can't open config file '\(path)': \(error.localizedDescription)\n".data(using: .utf8)!)
            exit(1)
        }
        try ConfigFile.apply(text, to: config, file: path)
    }
    try ConfigFile.apply(ConfigFile.lines(fromArguments: rest), to: config, file: "(command line)")
} catch let e as ConfigFileError {
    FileHandle.standardError.write((e.description + "\n").data(using: .utf8)!)
    exit(1)
}

RedisStyleLogHandler.configure(level: config.get("loglevel")!, file: config.get("logfile")!)
var logger = Logger(label: "tessera")
logger.logLevel = RedisStyleLogHandler.level(config.get("loglevel")!)

// Resolved before changing to `dir`: CONFIG REWRITE must find the file again.
let absoluteConfigFile = configFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
let dir = config.get("dir")!
if !FileManager.default.changeCurrentDirectoryPath(dir) {
    logger.critical("Can't chdir to '\(dir)': No such file or directory")
    exit(1)
}

let server = Server(config: config, logger: logger)
server.configFile = absoluteConfigFile
server.executablePath = CommandLine.arguments[0]
let port = Int(config.get("port")!)!
server.port = port
let loop = ShardLoop(server: server, logger: logger)
logger.notice("Tessera \(Server.tesseraVersion) (Redis \(Server.redisVersion) compatible), pid=\(getpid()), just started")
loop.adjustOpenFilesLimit()
if port > 0 {
    loop.checkBacklog(Int(config.get("tcp-backlog")!)!)
    var binds = config.get("bind")!.split(separator: " ").map(String.init)
    binds = binds.map { $0.hasPrefix("-") ? String($0.dropFirst()) : $0 }
    if binds == ["*", "::*"] || binds.isEmpty { binds = ["0.0.0.0", "::"] }
    var opened = 0
    for b in binds {
        let host = b == "*" ? "0.0.0.0" : (b == "::*" ? "::" : b)
        do {
            try loop.listen(host: host, port: port, backlog: Int(config.get("tcp-backlog")!)!)
            opened += 1
        } catch {
            // Like Redis, an address prefixed with '-' (or IPv6 when unavailable) may fail.
            logger.warning("\(error)")
        }
    }
    if opened == 0 {
        logger.critical("Failed listening on port \(port) (tcp), aborting.")
        exit(1)
    }
}
// Listening before loading, as Redis: clients connecting meanwhile get -LOADING.
let notifier = SystemdNotifier()
notifier.status("Loading the dataset")
let persistence = Persistence(server: server)
persistence.onLoadingProgress = { done, total in
    notifier.loadingProgress(done: done, total: total, nowMs: Server.wallClockMs())
}
if !persistence.loadAtStartup() { exit(1) }
logger.notice("Ready to accept connections tcp")
func readyStatus() -> String {
    var keys = 0
    for db in server.databases { keys += db.count }
    return "Ready to accept connections on port \(port), \(keys) keys"
}
notifier.ready(status: readyStatus())
server.cronHooks.append { notifier.watchdog(nowMs: Server.wallClockMs()) }
loop.onShutdownStarting = { notifier.stopping() }
loop.onReload = {
    notifier.reloading()
    if let path = absoluteConfigFile, let text = try? String(contentsOfFile: path, encoding: .utf8) {
        do {
            let r = try server.reloadConfig(fileText: text, file: path, overrides: ConfigFile.lines(fromArguments: rest))
            logger.notice("Configuration reloaded: \(r.applied.count) parameters changed\(r.applied.isEmpty ? "" : " (" + r.applied.joined(separator: ", ") + ")")")
            if !r.needRestart.isEmpty { logger.warning("These parameters only change with a restart: \(r.needRestart.joined(separator: ", "))") }
            for (name, why) in r.refused { logger.warning("Reload could not apply \(name): \(why)") }
        } catch {
            logger.warning("Configuration reload failed, keeping the running configuration: \(error)")
        }
    } else {
        logger.warning("Configuration reload: no readable configuration file")
    }
    notifier.ready(status: readyStatus())
}
exit(loop.run())
