import Foundation
import Testing

/// Type-checks user code against the built `Recall` module and its macro
/// plugin, as a client package would, and checks the errors users see when a
/// memoized function's types are not Codable.
@Suite struct CompileTimeDiagnosticsTests {
  @Test func nonCodableSelfParametersAndResultsAreExplained() throws {
    let directory = TemporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory.path, withIntermediateDirectories: true)
    let source = directory.path + "/Client.swift"
    try """
    import Recall

    struct Plain {
      var x: Int
      @Memoized func value() -> Int { x }
    }
    struct Opaque {}
    @Memoized func read(_ handle: Opaque) -> Int { 1 }
    @Memoized func make(_ seed: Int) -> Opaque { Opaque() }
    """.write(toFile: source, atomically: true, encoding: .utf8)

    let build = productsDirectory
    var checkouts = build
    while checkouts.lastPathComponent != ".build", checkouts.path != "/" {
      checkouts.deleteLastPathComponent()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "swiftc", "-typecheck", "-swift-version", "6",
      "-I", build.appendingPathComponent("Modules").path,
      "-I", checkouts.appendingPathComponent("checkouts/GRDB.swift/Sources/GRDBSQLite").path,
      // The C module the runtime hashes with: its module map, where SwiftPM wrote it.
      "-I", build.appendingPathComponent("CRecallSHA256.build").path,
      "-load-plugin-executable",
      build.appendingPathComponent("RecallMacros-tool").path + "#RecallMacros",
      source,
    ]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = Pipe()
    try process.run()
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()

    #expect(process.terminationStatus != 0)
    #expect(
      output.contains(
        "'@Memoized' on an instance method needs its type to be Codable & Sendable, because 'self' is an input of the call"
      ), "\(output)")
    #expect(
      output.contains("parameters of a '@Memoized' function must be Codable & Sendable"),
      "\(output)")
    // `ignoring:` is offered only with what it costs.
    #expect(
      output.contains(
        "Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key with '@Memoized(ignoring:)'"
      ), "\(output)")
    #expect(
      output.contains("the result of a '@Memoized' function must be Codable & Sendable"),
      "\(output)")
  }
}
