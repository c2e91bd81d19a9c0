import Foundation
import RecallCore
import Synchronization

/// Records a store's events so tests can assert which calls executed.
public final class EventLog: Sendable {
  private final class Events: Sendable {
    let list = Mutex<[RecallEvent]>([])
  }

  private let events = Events()
  private let token: ObservationToken

  /// Starts recording a store's events.
  public init(_ store: Store) {
    let events = self.events
    token = store.observe { event in events.list.withLock { $0.append(event) } }
  }

  /// Every event so far.
  public var all: [RecallEvent] { events.list.withLock { $0 } }

  /// Names of the ops whose bodies ran, in order, without their module.
  public var executed: [String] {
    all.compactMap { if case .willExecute(let call) = $0 { Self.local(call.op) } else { nil } }
  }

  /// The ops whose bodies ran, with the trial each result was filed under
  /// (0 for a result every trial shares), in the order they finished.
  public var executedTrials: [ExecutedTrial] {
    all.compactMap {
      if case .didExecute(let call, _) = $0 {
        ExecutedTrial(Self.local(call.op), call.trial)
      } else {
        nil
      }
    }
  }

  /// An op whose body ran, and the trial its result was filed under.
  public struct ExecutedTrial: Hashable, Sendable, CustomStringConvertible {
    public let op: String
    public let trial: Int
    public init(_ op: String, _ trial: Int) {
      self.op = op
      self.trial = trial
    }
    public var description: String { "\(op)#\(trial)" }
  }

  /// Names of the ops whose results were reused, in order, without their module.
  public var reused: [String] {
    all.compactMap { if case .didReuse(let call, _, _) = $0 { Self.local(call.op) } else { nil } }
  }

  /// The warnings so far.
  public var warnings: [RecallWarning] {
    all.compactMap { if case .warning(let warning) = $0 { warning } else { nil } }
  }

  private static func local(_ op: OpID) -> String {
    // "Module.Type.f(x: Int)" -> "Type.f(x:)"; names without a module stay as they are.
    let name = op.labelName
    guard let dot = name.firstIndex(of: "."), !name[..<dot].contains("(") else { return name }
    return String(name[name.index(after: dot)...])
  }
}

/// An in-memory store that does not print warnings (tests read them as events).
public func quietStore() -> Store {
  var configuration = Store.Configuration()
  configuration.printsWarnings = false
  return Store.inMemory(configuration: configuration)
}

/// A fresh directory path, removed with everything in it when released.
public final class TemporaryDirectory: Sendable {
  /// The directory's path (not created until something writes there).
  public let path: String

  /// Picks a fresh path under the system's temporary directory.
  public init() { path = NSTemporaryDirectory() + "recall-tests-" + UUID().uuidString }

  deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Counts how often a body ran, and gives each run a number of its own.
public final class Runs: Sendable {
  private let count = Atomic(0)
  public init() {}
  /// The next run's number, from 1.
  public func next() -> Int { count.add(1, ordering: .relaxed).newValue }
  /// How many runs there were.
  public var total: Int { count.load(ordering: .relaxed) }
}

/// A small deterministic generator (SplitMix64), so that a failure repeats.
public struct SplitMix {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
