import Foundation
import RecallStoreTestSupport
import RecallTestSupport
import Synchronization
import Testing

@testable import RecallCore

private struct Refused: Error {}

/// A store on `place` that audits `fraction` of its hits.
private func auditing(
  _ place: Reopenable, fraction: Double = 1, replacing: Bool = false
) -> Store {
  place.open {
    $0.audit = AuditPolicy(fraction: fraction, replacesDifferingResults: replacing)
  }
}

private func audits(_ log: EventLog) -> [AuditRecord] {
  log.all.compactMap { if case .didAudit(_, let audit) = $0 { audit } else { nil } }
}

/// Audits (``AuditPolicy``): hits run again, compared with what is stored, and
/// recorded in the store, on every backend.
@Suite struct AuditTests {
  @Test(arguments: Backend.allCases) func aReproducibleResultAuditsClean(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = auditing(place)
    let log = EventLog(store)
    let runs = Runs()
    let op = testOp("Lab.square(x:)")
    func square(_ x: Int) -> Int {
      store.memoize(op, [Argument("x", x)]) {
        _ = runs.next()
        return x * x
      }
    }
    #expect(square(4) == 16)
    #expect(runs.total == 1 && audits(log).isEmpty, "a miss is not audited")
    #expect(square(4) == 16)
    #expect(runs.total == 2, "the hit ran again")
    #expect(log.executed == ["square(x:)"], "an audit is not an execution")
    let recorded = try store.audits(of: "Lab.square(x:)")
    #expect(recorded.count == 1 && recorded.map(\.call) == audits(log).map(\.call))
    #expect(recorded.first?.op == "Lab.square(x:)" && recorded.first?.trial == 0)
    #expect(recorded.first?.differs == false)
    #expect(recorded.first?.storedCID == recorded.first?.auditedCID)
    #expect(log.warnings.isEmpty)
    let summary = try #require(try store.auditSummaries().first)
    #expect(summary.checked == 1 && summary.isClean)
  }

  @Test(arguments: Backend.allCases) func aResultThatIsNotReproducibleIsFoundAndKept(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = auditing(place)
    let log = EventLog(store)
    let runs = Runs()
    let op = testOp("Lab.clock()")
    // Depends on more than its inputs: each run gives another number.
    func clock() -> Int { store.memoize(op, []) { runs.next() } }
    #expect(clock() == 1)
    #expect(clock() == 1, "the stored result is served")
    #expect(clock() == 1)
    #expect(runs.total == 3)
    let findings = try store.audits(of: "Lab.clock()")
    #expect(findings.count == 2 && findings.allSatisfy(\.differs))
    #expect(findings.first?.auditedCID == (try ValueCodec.contentID(of: 3)), "most recent first")
    #expect(findings.allSatisfy { $0.storedCID == (try? ValueCodec.contentID(of: 1)) })
    #expect(log.warnings.map(\.kind) == [.auditDiffered, .auditDiffered])
    #expect(log.warnings.first?.message.contains("the stored result is kept") == true)
    // Nothing was replaced.
    store.flush()
    #expect(place.open().memoize(op, []) { -1 } == 1)
    let summary = try #require(try store.auditSummaries(of: "Lab.clock()").first)
    #expect(summary.checked == 2 && summary.differing.count == 2 && !summary.isClean)
  }

  @Test(arguments: Backend.allCases) func aDifferingResultReplacesTheStoredOneWhenAsked(
    _ kind: Backend
  ) throws {
    let place = try Reopenable(kind)
    let store = auditing(place, replacing: true)
    let runs = Runs()
    let op = testOp("Lab.clock()")
    func clock() -> Int { store.memoize(op, []) { runs.next() } }
    #expect(clock() == 1)
    #expect(clock() == 2, "the audit's result replaced the stored one")
    store.flush()
    #expect(place.open().memoize(op, []) { -1 } == 2)
    #expect(try store.audits().count == 1)
  }

  @Test(arguments: Backend.allCases) func aThrowingAuditIsAFinding(_ kind: Backend) throws {
    let place = try Reopenable(kind)
    let store = auditing(place)
    let runs = Runs()
    let op = testOp("Lab.flaky()")
    func flaky() throws(Refused) -> Int {
      try store.memoize(op, []) { () throws(Refused) -> Int in
        if runs.next() > 1 { throw Refused() }
        return 7
      }
    }
    #expect(try flaky() == 7)
    #expect(try flaky() == 7, "the audit's error is not the caller's")
    let finding = try #require(try store.audits().first)
    #expect(finding.differs && finding.auditedCID == nil)
    #expect(finding.error?.contains("Refused") == true)
  }

  @Test(arguments: Backend.allCases) func aRandomCallDrawsTheSameNumbersWhenAudited(
    _ kind: Backend
  ) async throws {
    let place = try Reopenable(kind)
    let store = auditing(place)
    let log = EventLog(store)
    let op = testOp("Lab.noisy(x:)")
    func noisy() async -> Double {
      await store.memoize(op, [Argument("x", 1)]) { () async -> Double in
        var random = RandomSource.current
        return random.nextDouble()
      }
    }
    let first = await withTrial(2) { await noisy() }
    #expect(await withTrial(2) { await noisy() } == first)
    let recorded = audits(log)
    #expect(recorded.count == 1 && recorded.first?.differs == false)
    #expect(recorded.first?.trial == 2)
  }

  @Test func aFractionAuditsAboutThatShareOfHits() throws {
    let place = try Reopenable(.memory)
    let store = auditing(place, fraction: 0.5)
    let op = testOp("Lab.square(x:)")
    for x in 0..<400 { _ = store.memoize(op, [Argument("x", x % 4)]) { x % 4 } }
    // 396 hits, each audited with probability 1/2: 198 ± 10 standard deviations.
    let count = try store.audits().count
    #expect((98...298).contains(count), "\(count) audits")
    let off = auditing(try Reopenable(.memory), fraction: 0)
    for x in 0..<10 { _ = off.memoize(op, [Argument("x", x % 2)]) { x % 2 } }
    #expect(try off.audits().isEmpty)
  }

  @Test func theEnvironmentSetsThePolicyOrSaysWhatIsWrong() {
    #expect(AuditPolicy.parse([:]).policy == .off)
    #expect(AuditPolicy.parse(["RECALL_AUDIT": "0.25"]).policy == AuditPolicy(fraction: 0.25))
    #expect(
      AuditPolicy.parse(["RECALL_AUDIT": "1", "RECALL_AUDIT_REPLACE": "1"]).policy
        == AuditPolicy(fraction: 1, replacesDifferingResults: true))
    let wrong = AuditPolicy.parse(["RECALL_AUDIT": "ten percent"])
    #expect(wrong.policy == .off)
    #expect(wrong.problem?.contains("give one from 0 to 1") == true)
    #expect(AuditPolicy.parse(["RECALL_AUDIT": "1.5"]).problem != nil)
    #expect(AuditPolicy.parse(["RECALL_AUDIT_REPLACE": "maybe"]).problem != nil)
  }
}
