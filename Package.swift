// swift-tools-version:6.0
import PackageDescription

// Layers, lowest first; a target only depends on targets above it in this list.
//   CShims, CJemalloc, CSystemd  C glue (epoll/accept4, jemalloc's mallctl, sd_notify)
//   RESP               wire protocol: incremental parser, reply encoder
//   Engine             keyspace, data types, command table, config
//   Persistence        RDB snapshots and the AOF (files, forked children, loading)
//   Replication        master and replica sides of PSYNC, the backlog, WAIT, ROLE
//   ShardRuntime       epoll event loop, connections, timers
//   CModuleABI         C half of the plugin ABI: GetApi table, strings, call replies, dicts, variadic API functions
//   PluginHost         plugins (Redis Modules C API): dlopen, MODULE command, the engine-facing API functions
//   Control            the control protocol (RESP values) shared by supervisor and tessera-ctl
//   Supervisor         the supervisor process: shards, restarts, systemd notify, control socket
//   TesseraServer      the `tessera-server` executable
// The shard's data path is single-threaded and audited for overlapping
// access; dynamic exclusivity checks cost ~15% of CPU per request there.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera-server", targets: ["TesseraServer"]),
        .executable(name: "tessera-ctl", targets: ["TesseraCtl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .target(name: "CShims"),
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc"),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd"),
        .target(name: "RESP", dependencies: ["CShims"], swiftSettings: hotPath),
        .target(
            name: "Engine",
            dependencies: [
                "RESP", "CJemalloc", "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "Persistence",
            dependencies: ["Engine", "RESP", "CShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Replication",
            dependencies: ["Engine", "Persistence", "RESP", "CShims", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ShardRuntime",
            dependencies: ["Engine", "RESP", "CShims", .product(name: "Logging", package: "swift-log"),
                           .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: hotPath
        ),
        .target(name: "CModuleABI", linkerSettings: [.linkedLibrary("dl")]),
        .target(
            name: "PluginHost",
            dependencies: ["CModuleABI", "Engine", "RESP", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "Control"),
        .target(name: "Supervisor", dependencies: ["Control", "RESP", "CSystemd", "CShims", .product(name: "Logging", package: "swift-log"),
                                                   .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(
            name: "TesseraServer",
            dependencies: ["ShardRuntime", "Persistence", "Replication", "Supervisor", "Engine", "PluginHost",
                           .product(name: "Logging", package: "swift-log")],
            path: "Sources/TesseraServer"
        ),
        .executableTarget(
            name: "TesseraCtl",
            dependencies: ["Control", "RESP", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/TesseraCtl",
            // main.swift holds the @main command; the subcommands live in other files.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .target(name: "EngineTestSupport", dependencies: ["Engine", "RESP"], path: "Tests/EngineTestSupport"),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "RESP", "EngineTestSupport"]),
        .testTarget(name: "PersistenceTests", dependencies: ["Persistence", "Engine", "RESP", "EngineTestSupport"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor"]),
        .testTarget(name: "ShardRuntimeTests", dependencies: ["ShardRuntime", "Engine", "RESP"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Persistence", "Engine", "RESP", "EngineTestSupport"]),
        .testTarget(name: "PluginHostTests", dependencies: ["PluginHost", "CModuleABI", "Engine"]),
    ],
    // The engine is single-threaded by design (one shard = one thread); Swift 5
    // mode keeps strict-concurrency checks from forcing locks into it.
    swiftLanguageModes: [.v5]
)
