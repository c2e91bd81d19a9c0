import Foundation
import Testing

@testable import RecallCore

@Suite struct ProcessEnvironmentTests {
  /// Each variable reads as Foundation's copy of the whole environment has
  /// it, and one that is not set reads as nil (not as an empty string).
  @Test func readsEachVariableAsTheWholeEnvironmentHasIt() throws {
    let environment = ProcessInfo.processInfo.environment
    #expect(!environment.isEmpty)
    for (name, value) in environment {
      #expect(ProcessEnvironment.value(name) == value, "\(name)")
    }
    let unset = "RECALL_UNSET_\(UInt64.random(in: 1...UInt64.max))"
    try #require(environment[unset] == nil)
    #expect(ProcessEnvironment.value(unset) == nil)
  }

  /// `$RECALL_STORE` when it is set and not empty, else `.recall` (child
  /// processes with it set are `ProcessTests`').
  @Test func theDefaultStoreIsRecallStoreElseDotRecall() {
    let named = ProcessInfo.processInfo.environment["RECALL_STORE"] ?? ""
    #expect(ProcessEnvironment.defaultStorePath == (named.isEmpty ? ".recall" : named))
  }
}
