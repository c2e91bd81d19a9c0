import Synchronization

/// A backend that keeps everything in memory, for tests and for computations
/// that need not outlive the process.
final class InMemoryBackend: StoreBackend {
  private struct State {
    var calls: [CallID: CallRecord] = [:]
    var values: [ContentID: [UInt8]] = [:]
  }

  private let state = Mutex(State())

  var location: String { "memory" }

  func loadResult(_ id: CallID) throws -> StoredResult? {
    state.withLock { state in
      guard let record = state.calls[id], let output = state.values[record.outputCID] else {
        return nil
      }
      return StoredResult(
        cid: record.outputCID, hid: record.outputHID, bytes: output, duration: record.duration)
    }
  }

  func record(_ call: CallRecord, values: [EncodedValue]) throws {
    state.withLock { state in
      for value in values where state.values[value.cid] == nil {
        state.values[value.cid] = value.bytes
      }
      state.calls[call.id] = call
    }
  }

  func summary() throws -> StoreSummary {
    state.withLock { state in
      StoreSummary(
        calls: state.calls.count, values: state.values.count,
        bytes: state.values.values.reduce(0) { $0 + $1.count })
    }
  }
}
