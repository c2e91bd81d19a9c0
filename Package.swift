// swift-tools-version: 6.1
import CompilerPluginSupport
import PackageDescription

let package = Package(
  name: "Recall",
  platforms: [.macOS(.v15), .iOS(.v18)],
  products: [
    .library(name: "Recall", targets: ["Recall"]),
    .library(name: "RecallCore", targets: ["RecallCore"]),
    .library(name: "RecallSQLite", targets: ["RecallSQLite"]),
    .library(name: "RecallPostgres", targets: ["RecallPostgres"]),
    .plugin(name: "RecallPlugin", targets: ["RecallPlugin"]),
    .executable(name: "recall", targets: ["RecallCommand"]),
  ],
  traits: [
    .trait(
      name: "PostgreSQL",
      description: """
        The `recall` tool opens postgres:// stores too (it then builds postgres-nio, SwiftNIO \
        and NIOSSL): swift build --product recall --traits PostgreSQL
        """)
  ],
  dependencies: [
    // 602 and 603 build Recall (600 lacks syntax APIs the block checks use).
    .package(url: "https://github.com/swiftlang/swift-syntax", "602.0.0"..<"604.0.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/pointfreeco/swift-macro-testing", from: "0.7.0"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
  ],
  targets: [
    // Core
    .target(
      name: "Recall",
      dependencies: ["RecallCore", "RecallSQLite", "RecallMacros"]
    ),
    .target(
      name: "RecallCore",
      dependencies: ["RecallCodeTable", "CRecallSHA256"]
    ),
    // SHA-256 with the processor's SHA instructions, without a crypto library.
    .target(name: "CRecallSHA256"),
    // The build plugin's table format, written by its tool and read by the
    // runtime: one module, without dependencies.
    .target(name: "RecallCodeTable"),
    .macro(
      name: "RecallMacros",
      dependencies: [
        "RecallFingerprint", "RecallCodeTable",
        .product(name: "SwiftSyntax", package: "swift-syntax"),
        .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
        .product(name: "SwiftDiagnostics", package: "swift-syntax"),
        .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
      ]
    ),
    .target(
      name: "RecallFingerprint",
      dependencies: [
        "RecallCodeTable", "CRecallSHA256", .product(name: "SwiftSyntax", package: "swift-syntax"),
        .product(name: "SwiftParser", package: "swift-syntax"),
      ]
    ),

    .plugin(
      name: "RecallPlugin",
      capability: .buildTool(),
      dependencies: ["RecallFingerprintTool"]
    ),
    .executableTarget(
      name: "RecallFingerprintTool",
      dependencies: [
        "RecallFingerprint", "RecallCodeTable",
        .product(name: "SwiftParser", package: "swift-syntax"),
        .product(name: "SwiftSyntax", package: "swift-syntax"),
      ]
    ),

    // Stores
    .target(
      name: "RecallSQLite",
      dependencies: [
        "RecallCore", "CRecallSQLite", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ]
    ),
    // What Swift cannot call in SQLite's C API (variadic functions).
    .target(
      name: "CRecallSQLite",
      dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]
    ),
    .target(
      name: "RecallPostgres",
      dependencies: [
        "RecallCore",
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ]
    ),

    // Tools
    // The rows the `recall` tool prints and the viewer serves: one type per
    // kind of row, so the two stay alike.
    .target(name: "RecallRows", dependencies: ["RecallCore"]),
    // `recall serve`: the web viewer, on Hummingbird. Only the `recall` tool
    // builds it; a program using Recall never does.
    .target(
      name: "RecallViewer",
      dependencies: [
        "RecallCore", "RecallRows", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .executableTarget(
      name: "RecallCommand",
      dependencies: [
        "RecallCore", "RecallSQLite", "RecallRows", "RecallViewer",
        .target(name: "RecallPostgres", condition: .when(traits: ["PostgreSQL"])),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ]
    ),

    // Examples
    .executableTarget(
      name: "recall-demo",
      dependencies: ["Recall"],
      path: "Examples/recall-demo",
      plugins: ["RecallPlugin"]
    ),

    // Benchmarks
    .target(
      name: "BenchCalls", dependencies: ["RecallCore", "RecallSQLite"],
      path: "Benchmarks/BenchCalls"
    ),
    .executableTarget(
      name: "recall-bench",
      dependencies: [
        "BenchCalls", "RecallCore", "RecallSQLite", "RecallViewer", "recall-bench-open",
      ],
      path: "Benchmarks/recall-bench"
    ),
    // Scenario C's fresh process, linked as a user's program is (Recall's core
    // and SQLite store, not the viewer).
    .executableTarget(
      name: "recall-bench-open",
      dependencies: ["BenchCalls", "RecallCore", "RecallSQLite"],
      path: "Benchmarks/recall-bench-open"
    ),

    // Tests: one target per source target; the store conformance suite
    // (RecallStoreTests) runs every backend-independent behaviour on every
    // backend. Only it, the PostgreSQL tests and the process tests build NIO.
    .executableTarget(
      name: "recall-test-child",
      dependencies: ["Recall", "RecallPostgres"],
      path: "Tests/recall-test-child"
    ),
    .target(
      name: "RecallTestSupport", dependencies: ["RecallCore", "RecallSQLite"],
      path: "Tests/RecallTestSupport"),
    // The fuzz targets (`.ci/fuzz`), which the tests run over their corpus.
    .target(
      name: "RecallFuzzTargets", dependencies: ["RecallCore", "RecallSQLite"],
      path: "Tests/RecallFuzzTargets"),
    .target(
      name: "RecallStoreTestSupport",
      dependencies: ["RecallTestSupport", "RecallSQLite", "RecallPostgres"],
      path: "Tests/RecallStoreTestSupport"),
    .testTarget(
      name: "RecallCoreTests", dependencies: ["RecallCore", "RecallTestSupport"]),
    .testTarget(name: "RecallCodeTableTests", dependencies: ["RecallCodeTable"]),
    .testTarget(name: "CRecallSHA256Tests", dependencies: ["CRecallSHA256"]),
    .testTarget(
      name: "RecallFingerprintTests",
      dependencies: [
        "RecallFingerprint", "RecallCodeTable", "RecallTestSupport",
        .product(name: "SwiftParser", package: "swift-syntax"),
      ]
    ),
    .testTarget(
      name: "RecallMacrosTests",
      dependencies: [
        "RecallMacros",
        .product(name: "MacroTesting", package: "swift-macro-testing"),
      ]
    ),
    .testTarget(
      name: "RecallStoreTests",
      dependencies: [
        "RecallStoreTestSupport", "RecallSQLite", "RecallPostgres", "RecallTestSupport",
      ]
    ),
    .testTarget(
      name: "RecallSQLiteTests",
      dependencies: [
        "RecallSQLite", "RecallTestSupport", "RecallFuzzTargets",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),
    .testTarget(
      name: "RecallPostgresTests",
      dependencies: ["RecallPostgres", "RecallStoreTestSupport", "RecallTestSupport"]
    ),
    .testTarget(
      name: "RecallCommandTests",
      dependencies: ["RecallCommand", "RecallCore", "RecallSQLite", "RecallTestSupport"],
      // `--help` snapshots, read from the source tree.
      exclude: ["Help", "Why"]
    ),
    .testTarget(
      name: "RecallViewerTests",
      dependencies: [
        "RecallViewer", "RecallCore", "RecallSQLite", "RecallTestSupport", "RecallCommand",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),
    .testTarget(
      name: "RecallTests",
      dependencies: [
        "Recall", "RecallTestSupport", "recall-test-child", "RecallFingerprintTool",
      ]
    ),
  ]
)
