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
/// computed. Every other read of the backend waits for the writer first
/// (``flush()``), so queries see every call computed before them.
final class GroupCommitter: Sendable {
  private struct Pending {
    let call: CallRecord
    let values: [EncodedValue]
    let completion: @Sendable ((any Error)?) -> Void
  }

  private struct State {
    var waiting: [Pending] = []
    /// The calls handed over and not yet committed (or failed), with how many
    /// times each is waiting.
    var uncommitted: [CallID: (result: StoredResult, count: Int)] = [:]
    var isWriting = false
    /// The writer's thread while it runs, so that work it calls (a
    /// completion) does not wait for itself.
    var writer: pthread_t?
  }

  private let state = Mutex(State())
  private let queue = DispatchQueue(label: "Recall.SQLiteBackend.commits")

  deinit { BeforeExit.remove(self) }

  /// Hands a call over; `completion` is called once it is committed or failed.
  func enqueue(
    _ call: CallRecord, values: [EncodedValue], completion: @escaping @Sendable ((any Error)?) -> Void,
    backend: SQLiteBackend
  ) {
    let output = values.first { $0.cid == call.outputCID }
    let start = state.withLock { state in
      state.waiting.append(Pending(call: call, values: values, completion: completion))
      if let output {
        let result = StoredResult(cid: call.outputCID, hid: call.outputHID, bytes: output.bytes, duration: call.duration)
        state.uncommitted[call.id] = (result, (state.uncommitted[call.id]?.count ?? 0) + 1)
      }
      defer { state.isWriting = true }
      return !state.isWriting
    }
    guard start else { return }
    BeforeExit.add(self, essential: true) { $0.flush() }
    queue.async { self.write(backend) }
  }

  /// The result of a call handed over and not committed yet.
  func result(of id: CallID) -> StoredResult? {
    state.withLock { $0.uncommitted[id]?.result }
  }

  /// Waits until every call handed over before is committed or failed.
  func flush() {
    let wait = state.withLock { state in
      state.isWriting && !(state.writer.map { pthread_equal($0, pthread_self()) != 0 } ?? false)
    }
    if wait { queue.sync {} }
  }

  private func write(_ backend: SQLiteBackend) {
    state.withLock { $0.writer = pthread_self() }
    while true {
      let batch = state.withLock { state in
        defer { state.waiting.removeAll() }
        if state.waiting.isEmpty {
          state.isWriting = false
          state.writer = nil
        }
        return state.waiting
      }
      guard !batch.isEmpty else { return }
      let errors = backend.commit(batch.map { ($0.call, $0.values) })
      state.withLock { state in
        for pending in batch {
          guard let entry = state.uncommitted[pending.call.id] else { continue }
          state.uncommitted[pending.call.id] = entry.count > 1 ? (entry.result, entry.count - 1) : nil
        }
      }
      for (pending, error) in zip(batch, errors) { pending.completion(error) }
    }
  }
}
