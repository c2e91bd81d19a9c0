import Foundation

/// A process (more exactly, one open ``Store`` in it) that claims calls.
public struct Claimant: Sendable, Hashable, CustomStringConvertible {
  /// A random token, unique to the open store.
  public var token: String
  /// The host the process runs on.
  public var host: String
  /// The process id.
  public var pid: Int

  /// Creates a claimant.
  public init(token: String, host: String, pid: Int) {
    self.token = token
    self.host = host
    self.pid = pid
  }

  public var description: String { "process \(pid) on \(host)" }

  /// Whether the claimant ran on this host in a process that no longer
  /// exists. (A process of another PID namespace with the same host name
  /// looks dead too: its call is then computed twice, never wrongly.)
  var isDeadProcessOnThisHost: Bool {
    host == Host.name && pid != Host.pid && kill(pid_t(pid), 0) != 0 && errno == ESRCH
  }
}

/// A lease on a call: its holder is computing it, and others wait for its
/// result rather than compute it too.
///
/// The holder renews the lease while the call runs (its heartbeat). When the
/// holder dies, the lease runs out and a waiting process takes the call over.
public struct Claim: Sendable, Hashable {
  /// The call being computed.
  public var call: CallID
  /// Its op.
  public var op: OpID
  /// Who computes it.
  public var claimant: Claimant
  /// When it was claimed.
  public var claimedAt: Date
  /// When the lease runs out unless its holder renews it.
  public var expiresAt: Date

  /// Creates a claim.
  public init(call: CallID, op: OpID, claimant: Claimant, claimedAt: Date, expiresAt: Date) {
    self.call = call
    self.op = op
    self.claimant = claimant
    self.claimedAt = claimedAt
    self.expiresAt = expiresAt
  }

  /// Whether the claim keeps `claimant` from claiming its call at `now`: it is
  /// another claimant's, its lease has not run out, and its holder is not
  /// `dead`. Backends decide with this.
  public func isLive(against claimant: Claimant, at now: Date, replacing dead: Claimant?) -> Bool {
    self.claimant.token != claimant.token && expiresAt > now && self.claimant.token != dead?.token
  }
}

/// What ``StoreWriter/claim(_:of:by:at:until:replacing:)`` found.
public enum ClaimOutcome: Sendable, Hashable {
  /// The call is now claimed by the caller (it was free, its lease had run
  /// out, or the caller held it already).
  case acquired
  /// The store has a complete record of the call: there is nothing to compute.
  case stored
  /// Another claimant holds a lease on the call that has not run out.
  case held(Claim)
}

/// How the processes sharing a store keep from computing the same call twice.
///
/// Before a process runs a call that missed, it claims the call in the store.
/// Another process that misses the same call meanwhile waits, polling, until
/// the result is stored (and returns it), the claim is released (the body
/// threw; it claims the call and runs it), or the lease runs out (the holder
/// died; it takes the call over). Hits never touch claims.
public struct ClaimPolicy: Sendable {
  /// Whether misses claim their calls. Default: `true` on stores other
  /// processes can share (SQLite, PostgreSQL); an in-memory store never claims.
  public var isEnabled = true

  /// How long a claim lasts unless its holder renews it. The holder renews
  /// its claims every third of this while the calls run, so a lease runs out
  /// only when its holder has died (or hung without running for this long).
  /// Default: 30 seconds.
  public var lease: Duration = .seconds(30)

  /// The longest pause between two looks at a call another process computes.
  /// Waiting starts with short pauses and doubles them up to this. Default:
  /// 100 milliseconds.
  public var pollInterval: Duration = .milliseconds(100)

  /// Calls quicker than this are not worth a claim: while an op's last call
  /// in this process took less, its misses run without claiming (two
  /// processes may then both compute such a call, which costs less than a
  /// claim — a store write — on every miss). The first miss of each op in a
  /// process always claims. Default: 2 milliseconds; `.zero` claims every
  /// call.
  public var quickCall: Duration = .milliseconds(2)

  /// How long a process waits for another to finish a call before it warns
  /// and runs the call itself. Default: 1 hour; raise it for calls that take
  /// longer.
  public var maximumWait: Duration = .seconds(3600)

  /// Creates the default policy.
  public init() {}
}

/// The waiting side of a claim: decides, after each look at the store, whether
/// to run the call, reuse its result, or wait and look again.
struct ClaimWait {
  enum Step: Equatable {
    /// Run the body; `claimed` when this process holds the claim.
    case run(claimed: Bool)
    /// The result is stored: reuse it.
    case reuse
    /// Look again after this pause.
    case pause(Duration)
    /// Waited longer than ``ClaimPolicy/maximumWait`` for `holder`: run the
    /// body without a claim (and warn).
    case giveUp(holder: Claimant, waited: Duration)
  }

  let policy: ClaimPolicy
  private(set) var started: ContinuousClock.Instant?
  private var pause: Duration = .milliseconds(2)

  init(policy: ClaimPolicy) {
    self.policy = policy
  }

  /// Whether the first look found the call held (so the caller starts waiting).
  var isWaiting: Bool { started != nil }

  mutating func next(_ outcome: ClaimOutcome, now: ContinuousClock.Instant = .now) -> Step {
    switch outcome {
    case .acquired:
      return .run(claimed: true)
    case .stored:
      return .reuse
    case .held(let claim):
      let started = self.started ?? now
      self.started = started
      let waited = now - started
      if waited >= policy.maximumWait { return .giveUp(holder: claim.claimant, waited: waited) }
      defer { pause = min(pause * 2, policy.pollInterval) }
      return .pause(min(pause, policy.maximumWait - waited))
    }
  }
}

/// Renews the claims an open store holds while their calls run (the
/// heartbeat), on a thread of its own. The thread stays while claims come and
/// go, and ends after a heartbeat interval without any (so that a run of
/// misses does not start a thread per call).
final class ClaimKeeper: @unchecked Sendable {
  let claimant = Claimant(token: UUID().uuidString, host: Host.name, pid: Host.pid)
  private let lease: Duration
  // Guarded by `condition`.
  private let condition = NSCondition()
  /// `nil` once the store is released (``stop()``).
  private var backend: (any StoreWriter)?
  private var held: [CallID: Int] = [:]
  private var isBeating = false

  init(backend: any StoreWriter, lease: Duration) {
    self.backend = backend
    self.lease = lease
  }

  /// When a lease taken now runs out.
  var expiry: Date { Date().addingTimeInterval(lease.inSeconds) }

  /// Starts renewing the claim on `id`.
  func keep(_ id: CallID) {
    condition.lock()
    defer { condition.unlock() }
    held[id, default: 0] += 1
    guard !isBeating else { return }
    isBeating = true
    let thread = Thread { [self] in beat() }
    thread.name = "Recall claims"
    thread.start()
  }

  /// Stops renewing the claim on `id`.
  func drop(_ id: CallID) {
    condition.lock()
    defer { condition.unlock() }
    if let count = held[id], count > 1 { held[id] = count - 1 } else { held[id] = nil }
  }

  /// Ends the heartbeat at once and lets the backend go, so that a released
  /// store's backend (and its database) goes with it, not a beat later.
  func stop() {
    condition.lock()
    backend = nil
    condition.broadcast()
    while isBeating { condition.wait() }
    condition.unlock()
  }

  private func beat() {
    condition.lock()
    while true {
      // Checked before sleeping: `stop()` may have come while this thread
      // was renewing, or before it first took the lock.
      let deadline = Date().addingTimeInterval(lease.inSeconds / 3)
      while backend != nil, condition.wait(until: deadline) {}
      guard !held.isEmpty, let backend else { break }
      condition.unlock()
      // A failed renewal (a locked store) is retried at the next beat; the
      // lease outlasts two of them.
      _ = try? backend.renewClaims(by: claimant, until: expiry)
      condition.lock()
    }
    isBeating = false
    condition.broadcast()
    condition.unlock()
  }
}

extension Duration {
  /// The duration in seconds.
  package var inSeconds: Double {
    Double(components.seconds) + Double(components.attoseconds) * 1e-18
  }
}
