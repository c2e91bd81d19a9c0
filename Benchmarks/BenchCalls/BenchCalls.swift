// The calls `recall-bench` and its fresh-process child `recall-bench-open`
// both make: the child must find the calls the bench stored, so both declare
// them here, once.

import Foundation
import RecallCore
import RecallSQLite

/// The site of the small call of scenarios A, B, C and F (and of the loops
/// that run them alone).
package let site = OpSite(name: "square(_:)", fileID: "Bench/main.swift", fingerprint: "b1")

/// The small call, as a `@Memoized` expansion makes it.
@inline(never)
package func square(_ store: Store, _ x: Int) -> Int {
  store.memoize(Op.declared(at: site, .untracked), [Argument("x", x)]) { x * x }
}

/// Opens the SQLite store at `path` without printing warnings.
package func quietSQLite(_ path: String) throws -> Store {
  var configuration = Store.Configuration()
  configuration.printsWarnings = false
  return try Store.sqlite(at: path, configuration: configuration)
}

/// A duration in nanoseconds.
package func nanoseconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) * 1e-9
}

/// Stops the benchmark with a message when a result is wrong.
package func check(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition {
    let program = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
    FileHandle.standardError.write(Data("\(program): wrong result: \(message())\n".utf8))
    exit(1)
  }
}
