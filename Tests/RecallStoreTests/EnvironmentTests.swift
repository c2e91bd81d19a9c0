import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Testing

@testable import RecallCore

/// What calls ran in (``CallEnvironment``): recorded with every call, one
/// record per distinct environment, on every backend.
@Suite struct EnvironmentTests {
  @Test(arguments: Backend.allCases) func everyCallNamesTheEnvironmentItRanIn(_ kind: Backend)
    throws
  {
    let place = try Reopenable(kind)
    let store = place.open()
    let built = builtOp()
    for x in [1, 2] { _ = store.memoize(built, [Argument("x", x)]) { x * 3 } }
    // Seeded: the same environment as a computed call.
    try MemoizedCall<Int>(op: built, arguments: [Argument("x", 9)]).store(27, in: store)
    // Without the plugin's build section: only what the process knows.
    let plain = testOp("Tests.plain(x:)")
    _ = store.memoize(plain, [Argument("x", 1)]) { 1 }
    store.flush()

    let calls = try store.calls(of: built.id)
    #expect(calls.count == 3)
    let id = try #require(calls.first?.environment)
    #expect(calls.allSatisfy { $0.environment == id })
    let environment = try #require(try store.environment(of: calls[0]))
    #expect(environment.id == id)
    #expect(environment.package == "Lab")
    #expect(environment.commit == String(repeating: "c", count: 40))
    #expect(environment.isDirty == true)
    #expect(environment.compiler == "Swift version 6.3.1 (swift-6.3.1-RELEASE)")
    #expect(
      environment.dependencies == [
        ResolvedDependency(
          identity: "grdb.swift", location: "https://github.com/groue/GRDB.swift",
          version: "7.10.0", revision: "abc")
      ])
    #expect(environment.operatingSystem == CallEnvironment.thisOperatingSystem)
    #expect(!environment.architecture.isEmpty && environment.architecture != "unknown")
    #expect(environment.recallVersion == CallEnvironment.recallVersion)
    #expect(try store.uncommittedChanges(of: environment) == builtChanges)

    let other = try #require(try store.calls(of: plain.id).first)
    let bare = try #require(try store.environment(of: other))
    #expect(bare.id != id)
    #expect(bare.commit == nil && bare.isDirty == nil && bare.compiler == nil)
    #expect(bare.dependencies.isEmpty && bare.operatingSystem == environment.operatingSystem)
    #expect(try store.uncommittedChanges(of: bare) == nil)

    // Another process, the same build: the same environment.
    let later = place.open()
    _ = later.memoize(built, [Argument("x", 5)]) { 15 }
    later.flush()
    let all = try later.calls(of: built.id)
    #expect(all.count == 4 && all.allSatisfy { $0.environment == id })

    // Copied with the calls, with the changes.
    let copy = Store(backend: InMemoryBackend())
    let report = try store.copy(to: copy)
    #expect(report.environments == 2, "\(report)")
    let copied = try #require(try copy.calls(of: built.id).first)
    let copiedEnvironment = try #require(try copy.environment(of: copied))
    #expect(copiedEnvironment == environment)
    #expect(try copy.uncommittedChanges(of: copiedEnvironment) == builtChanges)

    // Not collected while a process may still use them: saved within a day
    // of now, whatever date the collection is given.
    _ = try store.forget([other.id])
    let dayLater = Date(timeIntervalSinceNow: 86_400 + 60)
    #expect(try store.collectGarbage(keepingFilesNewerThan: dayLater).environments == 0)
    #expect(try store.environment(bare.id) != nil)
  }

  @Test func anEnvironmentsIdIsItsContentsDigestAndReadsBack() throws {
    let environment = CallEnvironment(
      package: "Lab", commit: "abc", changesDigest: nil, compiler: "Swift version 6.3.1",
      dependencies: [ResolvedDependency(identity: "grdb.swift", location: "/grdb", branch: "main")],
      operatingSystem: "Linux", architecture: "x86_64", recallVersion: "0.13.0")
    #expect(CallEnvironment(body: environment.body) == environment)
    #expect(EnvironmentID(hex: environment.id.hex) == environment.id)
    // Pinned: an id is the same in every store and every Recall that has it.
    #expect(environment.id.hex == "4ee9ef3b500ac0e7", "\(environment.id)")
    var other = environment
    other.commit = "abd"
    #expect(other.id != environment.id)
    #expect(CallEnvironment(body: "{}") == nil && CallEnvironment(body: "") == nil)
    #expect(EnvironmentID(hex: "xyz") == nil && EnvironmentID(hex: "00") == nil)
    #expect(environment.dependencies[0].resolution == "main")
  }
}
