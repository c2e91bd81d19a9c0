import Foundation
import Testing

/// Type-checks user code against the built `Recall` module and its macro
/// plugin, as a client package would, and checks the errors users see when a
/// memoized function's types are not Codable.
@Suite struct CompileTimeDiagnosticsTests {
  @Test func nonCodableTypesAreReportedOnceAtTheTypeNamingIt() throws {
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
    @Memoized func read(_ handle: Opaque, count: Int) -> Int { count }
    @Memoized func make(_ seed: Int) -> [Opaque] { [Opaque()] }
    @Memoized func pair(_ seed: Int) -> (Int, Int) { (seed, seed) }
    let block = #memoized("block", 1) { Opaque() }
    """.write(toFile: source, atomically: true, encoding: .utf8)

    let build = productsDirectory
    var checkouts = build
    while checkouts.lastPathComponent != ".build", checkouts.path != "/" {
      checkouts.deleteLastPathComponent()
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "swiftc", "-typecheck", "-swift-version", "6", "-diagnostic-style", "llvm",
      "-I", build.appendingPathComponent("Modules").path,
      "-I", checkouts.appendingPathComponent("checkouts/GRDB.swift/Sources/GRDBSQLite").path,
      // The C modules the runtime and the SQLite store use: their module maps,
      // where SwiftPM wrote them.
      "-I", build.appendingPathComponent("CRecallSHA256.build").path,
      "-I", build.appendingPathComponent("CRecallSQLite.build").path,
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

    // Every error, as `line:column: message`, in the order the compiler gave them.
    let reported = output.split(separator: "\n").compactMap { line -> String? in
      guard line.contains(": error: ") else { return nil }
      guard line.hasPrefix(source + ":") else {
        // A block's result type is not written: its error is in the expansion.
        return line.contains("@__swiftmacro_")
          ? "in expansion: " + line.split(separator: ": error: ")[1] : String(line)
      }
      return String(line.dropFirst(source.count + 1))
    }
    // Each type that is not Codable & Sendable is reported once, at the type
    // (or, for `self`, at the method's name), naming it; `ignoring:` is
    // offered only with what it costs.
    #expect(
      reported.sorted() == [
        "10:37: error: a '@Memoized' function returning a tuple stores each element as an output named by its label; label every element of '(Int, Int)', as in '(loss: Double, model: Model)', or return a struct conforming to MultipleOutputs (from macro 'Memoized ')",
        "5:18: error: 'memoizedSelf' is unavailable: 'Plain' is not Encodable & Sendable, and 'self' is an input of a '@Memoized' instance method; add 'Codable, Sendable' to the declaration of 'Plain', or make the method 'static' and pass what it needs as parameters",
        "8:31: error: 'memoizedParameter' is unavailable: 'Opaque' is not Encodable & Sendable, so parameter 'handle' cannot be part of the call's key; add 'Codable, Sendable' to the declaration of 'Opaque'. Only a parameter that never changes the result (a logger, a progress callback) may be left out of the key, with '@Memoized(ignoring: [\"handle\"])': calls that differ in it are then served one result",
        "9:37: error: 'memoizedResult' is unavailable: '[Opaque]' is not Codable & Sendable, so a '@Memoized' function cannot store it as its result; make the types in it Codable & Sendable, or return a Codable summary of it",
        "in expansion: '__recallMemoizedBlock(_:_:_:types:_:)' is unavailable: the result of a '#memoized' block must be Codable & Sendable; make its type conform, or return a Codable summary of it",
      ], "\(output)")
  }
}
