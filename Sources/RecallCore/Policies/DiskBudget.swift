import Dispatch
import Foundation
import Synchronization

extension Store {
  /// Evicts stored results until the bytes of the store's values fit
  /// `budget`: first those cheapest to compute again per byte (their calls'
  /// recorded duration ÷ their bytes), and among equally cheap ones those
  /// computed longest ago.
  ///
  /// An evicted call keeps its record (inputs, timing, version, provenance),
  /// marked evicted (``CallRecord/evictedAt``), so queries and frames still
  /// show it; its next call computes it again and stores it. Values that are
  /// inputs of calls, values a tag names (directly or as a tagged call's
  /// result), and results stored by parts (``MultipleOutputs``, ``Elements``)
  /// and their parts are never evicted: pin a result by tagging it
  /// (``tag(_:call:)``). Safe while other processes use the store: a reader
  /// gets the whole value or a miss that recomputes it.
  ///
  /// A store with ``Configuration/diskBudget`` does this by itself; this is
  /// the one-off (`recall gc --budget 20GB`).
  ///
  /// - Parameter budget: The bytes the store's values may take.
  /// - Returns: What was evicted; ``EvictionReport/isWithinBudget`` is false
  ///   when what is over the budget cannot be evicted.
  @discardableResult
  public func evict(toFit budget: Int) throws -> EvictionReport {
    try diskBudget.evict(toFit: budget)
  }

  /// Counts, per op, the calls whose results are evicted and not computed
  /// again since, with the bytes those results took, by op name.
  public func evictions() throws -> [OpEvictions] {
    try backend.evictions()
  }
}

/// Keeps a store within ``Store/Configuration/diskBudget``: after every
/// twentieth of the budget this process stores (and after its first stored
/// result), it counts the store's bytes in the background, and when they are
/// over the budget, evicts down to nine tenths of it, so that the next
/// eviction waits for a tenth of the budget of new results.
///
/// ``EvictionReport/bytesBefore`` is what the store held when the eviction
/// began; ``EvictionReport/isWithinBudget`` compares it less what this
/// eviction freed, so with other processes evicting or storing at once it is
/// an estimate.
final class DiskBudget: Sendable {
  let budget: Int?
  private let backend: any StoreWriter
  private let center: EventCenter
  private let printsWarnings: Bool
  /// Bytes stored since the last check; starts full, so that the first
  /// stored result checks.
  private let sinceCheck: Atomic<Int>
  private let isChecking = Atomic<Bool>(false)
  private let checks = DispatchGroup()

  init(budget: Int?, backend: any StoreWriter, center: EventCenter, printsWarnings: Bool) {
    self.budget = budget.map { max(0, $0) }
    self.backend = backend
    self.center = center
    self.printsWarnings = printsWarnings
    self.sinceCheck = Atomic(budget.map { Self.interval(of: $0) } ?? 0)
  }

  /// The bytes stored between two checks of a budget.
  private static func interval(of budget: Int) -> Int { max(1, budget / 20) }

  /// Counts a stored result; starts a check when enough were stored since
  /// the last. Cheap: one atomic add when there is no check to start.
  func stored(_ bytes: Int) {
    guard let budget else { return }
    let total = sinceCheck.add(bytes, ordering: .relaxed).newValue
    guard total >= Self.interval(of: budget) else { return }
    checks.enter()
    guard startChecking() else { return checks.leave() }
    // Nothing waits for a check (a flush, or the store's release, would
    // deadlock if an observer of its events or of the writer's completions
    // waited), and a check holds no store: a process that exits or is killed
    // in the middle of one leaves a store that is whole (decision 0101).
    DispatchQueue.global(qos: .utility).async { [self] in
      defer { checks.leave() }
      repeat {
        sinceCheck.store(0, ordering: .relaxed)
        do {
          _ = try evict(toFit: budget, down: budget - budget / 10)
        } catch {
          Store.warn(
            .storeFailure, nil,
            "could not keep the store within its disk budget of \(Readable.size(budget)) "
              + "(\(error)); it is tried again after more results are stored.",
            printing: printsWarnings, to: center)
        }
        isChecking.store(false, ordering: .releasing)
        // Results stored during the check started none: check again for
        // them, unless another thread just started a check of its own.
      } while sinceCheck.load(ordering: .relaxed) >= Self.interval(of: budget) && startChecking()
    }
  }

  /// Marks a check as under way; returns `false` when one already is.
  private func startChecking() -> Bool {
    isChecking.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
  }

  /// Waits for the checks under way (for tests: a check runs by itself).
  func waitForChecks() { checks.wait() }

  /// Evicts, when the store's values take more than `budget` bytes, down to
  /// `target` (the budget itself unless given).
  func evict(toFit budget: Int, down target: Int? = nil) throws -> EvictionReport {
    var stored = try backend.summary().bytes
    var report = EvictionReport(budget: budget, bytesBefore: stored)
    guard stored > budget else { return report }
    let goal = min(budget, target ?? budget)
    let ranked = try backend.evictionCandidates().sorted { $0.isEvicted(before: $1) }
    let date = Date()
    var next = ranked.startIndex
    // In batches, each its own transaction, so that writers wait for one
    // batch at most. A value that stopped being a candidate since it was
    // listed is skipped: most likely another process is evicting too, so the
    // store's bytes are counted again rather than assumed, and two evictions
    // at once do not both take the store's excess away.
    while stored > goal, next < ranked.endIndex {
      var batch: [ContentID] = []
      var projected = stored
      while projected > goal, next < ranked.endIndex, batch.count < Self.batchSize {
        batch.append(ranked[next].cid)
        projected -= ranked[next].bytes
        next += 1
      }
      let evicted = try backend.evict(batch, at: date)
      for value in evicted {
        report.values += 1
        report.bytes += value.bytes
      }
      stored =
        evicted.count == batch.count
        ? stored - evicted.reduce(0) { $0 + $1.bytes } : try backend.summary().bytes
    }
    if report.values > 0 { center.emit(.didEvict(report)) }
    return report
  }

  /// The values one transaction evicts at most.
  static let batchSize = 5_000
}
