// tessera-server [config-file] [--name value ...]
//
// Two roles in one binary. Started by a user or systemd, it is the
// supervisor: it opens the listening sockets and spawns the shard processes
// (this same binary with the internal `--shard-worker` flags), then watches
// them (Sources/Supervisor). A shard runs the engine's event loop on the
// inherited sockets, loads its data, and serves clients directly.

import Foundation
import Engine
import PluginHost
import Persistence
import Replication
import ShardRuntime
import Supervisor
import Logging
import CShims
import Glibc

var arguments = Array(CommandLine.arguments.dropFirst())

/// Set when this process is a shard started by the supervisor.
struct WorkerRole {
    var index = 0
    var listeners: [Int32] = []
    var link: Int32 = -1
    /// Several shards: their count, this shard's internal listener, its
    /// shard-port listeners, and the prefix of every shard's internal socket name.
    var shardCount = 1
    var internalListener: Int32 = -1
    var clusterListeners: [Int32] = []
    var peerPrefix = ""
}
var worker: WorkerRole? = nil
if arguments.first == "--shard-worker", arguments.count >= 6,
   arguments[2] == "--shard-listen-fds", arguments[4] == "--shard-link" {
    worker = WorkerRole(index: Int(arguments[1]) ?? 0,
                        listeners: arguments[3].split(separator: ",").compactMap { Int32($0) },
                        link: Int32(arguments[5]) ?? -1)
    arguments.removeFirst(6)
    while arguments.count >= 2 && arguments[0].hasPrefix("--shard-") {
        let value = arguments[1]
        switch arguments[0] {
        case "--shard-count": worker!.shardCount = Int(value) ?? 1
        case "--shard-internal-fd": worker!.internalListener = Int32(value) ?? -1
        case "--shard-cluster-fds": worker!.clusterListeners = value.split(separator: ",").compactMap { Int32($0) }
        case "--shard-peers": worker!.peerPrefix = value
        default: break
        }
        arguments.removeFirst(2)
    }
    // A shard never outlives its supervisor: ts_spawn armed the parent-death
    // signal before exec (and checked the supervisor was still there).
}
if arguments.first == "-v" || arguments.first == "--version" {
    print("Tessera server v=\(ShardEngine.tesseraVersion) redis_compat=\(ShardEngine.redisVersion)")
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

/// The addresses `bind` names, as listen() takes them: Redis's "-" prefix
/// (may fail) dropped, "*" and "::*" as the wildcard addresses; Redis's
/// default "* -::*" (or nothing) means every IPv4 and IPv6 address.
func bindHosts(_ config: Config) -> [String] {
    let binds = config.get("bind")!.split(separator: " ").map { $0.hasPrefix("-") ? String($0.dropFirst()) : String($0) }
    if binds == ["*", "::*"] || binds.isEmpty { return ["0.0.0.0", "::"] }
    return binds.map { $0 == "*" ? "0.0.0.0" : ($0 == "::*" ? "::" : $0) }
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

if worker == nil {
    // The supervisor: listening sockets, then the shards.
    RedisStyleLogHandler.role = { "X" }
    logger.notice("Tessera \(ShardEngine.tesseraVersion) (Redis \(ShardEngine.redisVersion) compatible), supervisor pid=\(getpid()), just started")
    let shardsSetting = config.get("shards")!
    let shardCount = shardsSetting == "auto" ? max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) : (Int(shardsSetting) ?? 0)
    if shardCount < 1 || shardCount > 1024 {
        logger.critical("Invalid shards '\(shardsSetting)': a number from 1 to 1024, or auto")
        exit(1)
    }
    let port = Int(config.get("port")!)!
    let backlog = Int32(config.get("tcp-backlog")!)!
    /// TCP listeners on every bind address; nil when none could be opened.
    func listenTCP(_ port: Int) -> [Int32]? {
        var fds: [Int32] = []
        for host in bindHosts(config) {
            let fd = ts_listen_tcp(host, Int32(port), backlog)
            if fd < 0 {
                // Like Redis, an address prefixed with '-' (or IPv6 when unavailable) may fail.
                logger.warning("Could not create server TCP listening socket \(host):\(port): \(String(cString: strerror(-fd)))")
                continue
            }
            fds.append(fd)
        }
        return fds.isEmpty ? nil : fds
    }
    var listeners: [Int32] = []
    let activated = SocketActivation.listeners()
    if !activated.isEmpty {
        // systemd socket activation (tessera.socket): systemd opened the main port.
        listeners = activated
        logger.notice("Using \(activated.count) listening socket(s) from systemd (socket activation)")
    } else if port > 0 {
        guard let fds = listenTCP(port) else {
            logger.critical("Failed listening on port \(port) (tcp), aborting.")
            exit(1)
        }
        listeners = fds
    }
    let unixSocket = config.get("unixsocket")!
    if !unixSocket.isEmpty {
        guard let perm = Int32(config.get("unixsocketperm")!, radix: 8), perm >= 0, perm <= 0o777 else {
            logger.critical("Invalid unixsocketperm '\(config.get("unixsocketperm")!)': octal permissions such as 700")
            exit(1)
        }
        let fd = ts_listen_unix(unixSocket, 0, backlog, perm)
        if fd < 0 {
            logger.critical("Failed opening Unix socket \(unixSocket): \(String(cString: strerror(-fd)))")
            exit(1)
        }
        listeners.append(fd)
    }
    var options = SupervisorOptions()
    options.shards = shardCount
    let shardPorts = Int(config.get("shard-ports")!)!
    if shardPorts > 0 {
        for i in 0..<shardCount {
            guard let fds = listenTCP(shardPorts + i) else {
                logger.critical("Failed listening on shard port \(shardPorts + i) (tcp), aborting.")
                exit(1)
            }
            options.clusterListeners.append(fds)
        }
    }
    if shardCount > 1 {
        // Links between shards: one abstract unix socket per shard, held by
        // the supervisor so a restarting shard's peers queue instead of failing.
        options.peerPrefix = "tessera-\(getpid())-shard-"
        for i in 0..<shardCount {
            let fd = ts_listen_unix(options.peerPrefix + String(i), 1, 1024, 0)
            if fd < 0 {
                logger.critical("Failed opening the internal socket of shard \(i): \(String(cString: strerror(-fd)))")
                exit(1)
            }
            options.internalListeners.append(fd)
        }
    }
    options.shardTimeoutMs = Int64(config.get("shard-timeout")!)!
    options.listeners = listeners
    options.controlSocket = config.get("control-socket")!
    options.controlSocketPermissions = config.get("control-socket-perm")!
    options.metricsPort = Int(config.get("metrics-port")!)!
    options.metricsBind = config.get("metrics-bind")!
    options.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    // Shards resolve the config file from the supervisor's working directory.
    // (The supervisor already changed to `dir`: shards get it as an absolute path.)
    options.shardArguments = (absoluteConfigFile.map { [$0] } ?? []) + rest
        + ["--dir", FileManager.default.currentDirectoryPath]
    // As redis-server: the banner (tools wait for its "PID: <pid>") and the pidfile.
    if config.get("always-show-logo") == "yes" {
        RedisStyleLogHandler.writeRaw(startupBanner(port: port, shards: shardCount, pid: getpid()))
    }
    let pidfile = config.get("pidfile")!
    if !pidfile.isEmpty && !writePidfile(pidfile) {
        logger.warning("Failed to write PID file: \(String(cString: strerror(ts_errno())))")
    }
    let code = Supervisor(options: options, logger: logger).run()
    if !pidfile.isEmpty { unlink(pidfile) }
    exit(code)
}

let engine = ShardEngine(config: config, logger: logger)
engine.configFile = absoluteConfigFile
engine.executablePath = CommandLine.arguments[0]
let port = Int(config.get("port")!)!
engine.port = port
let loop = ShardLoop(engine: engine, logger: logger)
loop.isWorker = true
logger.notice("Tessera \(ShardEngine.tesseraVersion) (Redis \(ShardEngine.redisVersion) compatible), shard \(worker!.index) pid=\(getpid()), just started")
loop.adjustOpenFilesLimit()
if port > 0 { loop.checkBacklog(Int(config.get("tcp-backlog")!)!) }
for fd in worker!.listeners { loop.adoptListener(fd) }
if worker!.shardCount > 1 || !worker!.clusterListeners.isEmpty {
    let w = worker!
    var announce = config.get("cluster-announce-ip")!
    if announce.isEmpty {
        let first = bindHosts(config)[0]
        announce = first == "0.0.0.0" || first == "::" ? "127.0.0.1" : first
    }
    let topology = ClusterTopology(shardCount: w.shardCount, myIndex: w.index,
                                   clusterPortBase: Int(config.get("shard-ports")!)!, announceHost: announce)
    engine.cluster = topology
    for fd in w.clusterListeners { loop.adoptListener(fd, routing: .cluster) }
    loop.enableForwarding(topology: topology, internalListener: w.shardCount > 1 ? w.internalListener : -1,
                          peerNames: w.shardCount > 1 ? (0..<w.shardCount).map { w.peerPrefix + String($0) } : [])
}
if worker!.link >= 0 { loop.adoptSupervisorLink(worker!.link) }
// Plugins load before the dataset: their data types must be known to read it.
if !config.loadModules.isEmpty {
    let host = PluginHost.install(on: engine)
    for (path, args) in config.loadModules {
        do { _ = try host.load(path: path, args: args) } catch {
            logger.warning("Module \(path) failed to load")
            exit(1)
        }
    }
} else {
    PluginHost.install(on: engine)
}
// Listening before loading, as Redis: clients connecting meanwhile get -LOADING.
let persistence = Persistence(engine: engine)
if !persistence.loadAtStartup() { exit(1) }
// After persistence: its AOF flush comes first in a round; a replica connects once its data is loaded.
RedisStyleLogHandler.role = { engine.replicationGate.isReplica ? "S" : "M" }
let replication = Replication(engine: engine, persistence: persistence)
logger.notice("Ready to accept connections tcp")
loop.onReload = {
    if let path = absoluteConfigFile, let text = try? String(contentsOfFile: path, encoding: .utf8) {
        do {
            let r = try engine.reloadConfig(fileText: text, file: path, overrides: ConfigFile.lines(fromArguments: rest))
            logger.notice("Configuration reloaded: \(r.applied.count) parameters changed\(r.applied.isEmpty ? "" : " (" + r.applied.joined(separator: ", ") + ")")")
            if !r.needRestart.isEmpty { logger.warning("These parameters only change with a restart: \(r.needRestart.joined(separator: ", "))") }
            for (name, why) in r.refused { logger.warning("Reload could not apply \(name): \(why)") }
        } catch {
            logger.warning("Configuration reload failed, keeping the running configuration: \(error)")
        }
    } else {
        logger.warning("Configuration reload: no readable configuration file")
    }
}
exit(loop.run())
