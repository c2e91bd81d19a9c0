import Dispatch
import Foundation
import RecallCore
import Synchronization

/// Stores the calls a backend's processes compute in the background, several
/// per transaction (group commit): a miss hands its call over and returns; a
/// writer commits whatever has arrived, in one transaction and one fsync,
/// then what arrived meanwhile, until nothing waits.
///
/// Until its transaction commits, a call is served to this backend's lookups
/// from here (``result(of:)``), so that a process never misses a call it has
/// computed. Reads that must see every call computed before them wait for
/// those calls (``flush()``), not for calls handed over after.
final class GroupCommitter: @unchecked Sendable {
  private struct Pending {
    let call: CallRecord
    let values: [EncodedValue]
    let completion: @Sendable ((any Error)?) -> Void
  }

  // Guarded by `condition`.
  private let condition = NSCondition()
  private var waiting: [Pending] = []
  /// The calls handed over and not yet committed (or failed), with how many
  /// times each is waiting.
  private var uncommitted: [CallID: (result: StoredResult?, count: Int)] = [:]
  /// How many calls `uncommitted` holds, set under the lock and read
  /// without it: while nothing waits to be committed (a sweep over stored
  /// results), a lookup takes no lock here.
  private let uncommittedCount = Atomic(0)
  private var isWriting = false
  /// Calls handed over, and calls committed or failed, since the start: a
  /// flush waits until the second reaches what the first was when it began.
  private var handedOver = 0
  private var finished = 0
  /// The writer's thread while it runs, so that work it calls (a completion)
  /// does not wait for itself.
  private var writer: pthread_t?

  private let queue = DispatchQueue(label: "Recall.SQLiteBackend.commits")

  deinit { BeforeExit.remove(self) }

  /// Hands a call over; `completion` is called once it is committed or failed.
  func enqueue(
    _ call: CallRecord, values: [EncodedValue],
    completion: @escaping @Sendable ((any Error)?) -> Void,
    backend: SQLiteBackend
  ) {
    let result = values.first { $0.cid == call.outputCID }.map {
      StoredResult(
        cid: call.outputCID, hid: call.outputHID, bytes: $0.bytes, duration: call.duration,
        storedAt: call.startedAt.timeIntervalSince1970 + call.duration)
    }
    condition.lock()
    defer { condition.unlock() }
    waiting.append(Pending(call: call, values: values, completion: completion))
    handedOver += 1
    let earlier = uncommitted[call.id]
    uncommitted[call.id] = (result ?? earlier?.result, (earlier?.count ?? 0) + 1)
    uncommittedCount.store(uncommitted.count, ordering: .releasing)
    guard !isWriting else { return }
    isWriting = true
    BeforeExit.add(self, stage: .storing) { $0.flush() }
    // Weakly: a released store's backend closes its database when the store
    // goes, not whenever this thread next looks for work.
    let path = backend.path
    queue.async { [weak backend] in self.write(path: path) { backend } }
  }

  /// The result of a call handed over and not committed yet.
  func result(of id: CallID) -> StoredResult? {
    // A call this thread handed over, or one handed over before whatever
    // told this thread about it, was counted before.
    guard uncommittedCount.load(ordering: .acquiring) > 0 else { return nil }
    condition.lock()
    defer { condition.unlock() }
    return uncommitted[id]?.result
  }

  /// Waits until every call handed over before is committed or failed (the
  /// writer itself never waits).
  func flush() {
    condition.lock()
    defer { condition.unlock() }
    if let writer, pthread_equal(writer, pthread_self()) != 0 { return }
    let target = handedOver
    while finished < target { condition.wait() }
  }

  private func write(path: String, _ backend: () -> SQLiteBackend?) {
    condition.lock()
    writer = pthread_self()
    condition.unlock()
    while true {
      condition.lock()
      var batch = waiting
      waiting.removeAll()
      if batch.isEmpty {
        isWriting = false
        writer = nil
      }
      condition.unlock()
      guard !batch.isEmpty else { return }
      // The completions of a store's calls hold the backend, so it is here
      // whenever calls are (a caller of the backend's own `record` must keep
      // it, or flush, until its calls complete).
      let errors =
        backend()?.commit(batch.map { ($0.call, $0.values) })
        ?? batch.map { _ -> (any Error)? in
          RecallError.storeUnavailable(
            path: path, detail: "the store was released before its calls were stored")
        }
      condition.lock()
      for pending in batch {
        guard let entry = uncommitted[pending.call.id] else { continue }
        uncommitted[pending.call.id] = entry.count > 1 ? (entry.result, entry.count - 1) : nil
      }
      uncommittedCount.store(uncommitted.count, ordering: .releasing)
      condition.unlock()
      for (pending, error) in zip(batch, errors) { pending.completion(error) }
      // What the completions hold (a store's claims, its backend) goes before
      // flushers learn that the calls are done.
      let count = batch.count
      batch = []
      condition.lock()
      finished += count
      condition.broadcast()
      condition.unlock()
    }
  }
}
