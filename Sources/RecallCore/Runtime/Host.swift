import Foundation

/// The host and process that run calls.
enum Host {
  static let name: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }()
  static let pid = Int(getpid())
}

/// The process's environment variables, read one at a time.
///
/// Read with `getenv`: `ProcessInfo.environment` copies the whole
/// environment into a dictionary, about 400,000 instructions the first time
/// in a fresh process (scenario C of `Benchmarks/RESULTS.md`): a cost a
/// store's opening or a process's first call would pay to read one variable.
package enum ProcessEnvironment {
  /// The variable's value as it is now: `nil` if it is not set, the empty
  /// string if it is set to nothing.
  package static func value(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
  }

  /// The store a process uses when none is named: `$RECALL_STORE` if it is
  /// set and not empty, else `.recall` in the current directory (the
  /// default store's and the `recall` tool's one rule).
  package static var defaultStorePath: String {
    value("RECALL_STORE").flatMap { $0.isEmpty ? nil : $0 } ?? ".recall"
  }
}
