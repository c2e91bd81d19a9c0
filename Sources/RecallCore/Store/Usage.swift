import Dispatch
import Foundation
import Synchronization

/// How often an op's calls were answered from the store and how often they ran,
/// in one hour: the store's record of use, which `recall stats` reports over
/// time.
///
/// Processes add to it in the background (``Store/saveUsage()``), so a hit
/// never waits on a write.
public struct OpUsage: Sendable, Hashable {
  /// The op.
  public var op: OpID
  /// The start of the hour the counts were saved in (UTC).
  public var period: Date
  /// Calls answered from a process's memory layer.
  public var memoryHits: Int
  /// Calls answered from the stored results.
  public var storeHits: Int
  /// Calls that ran their body.
  public var misses: Int
  /// The time the reused calls took when they ran.
  public var timeSaved: Duration
  /// The time spent running bodies.
  public var computeTime: Duration
  /// Results a ``StoragePolicy`` did not store (kept in memory only, computed
  /// too quickly, or too large).
  public var notStored: Int
  /// The bytes of the results not stored.
  public var notStoredBytes: Int

  /// Calls answered without running their body.
  public var hits: Int { memoryHits + storeHits }

  /// Creates a count of use.
  public init(
    op: OpID, period: Date, memoryHits: Int = 0, storeHits: Int = 0, misses: Int = 0,
    timeSaved: Duration = .zero, computeTime: Duration = .zero, notStored: Int = 0,
    notStoredBytes: Int = 0
  ) {
    self.notStored = notStored
    self.notStoredBytes = notStoredBytes
    self.op = op
    self.period = period
    self.memoryHits = memoryHits
    self.storeHits = storeHits
    self.misses = misses
    self.timeSaved = timeSaved
    self.computeTime = computeTime
  }

  /// The start of the hour `date` falls in, in UTC: the periods of stored use.
  public static func hour(of date: Date) -> Date {
    Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
  }

  /// Adds another count's numbers to this one's.
  public mutating func add(_ other: OpUsage) {
    memoryHits += other.memoryHits
    storeHits += other.storeHits
    misses += other.misses
    timeSaved += other.timeSaved
    computeTime += other.computeTime
    notStored += other.notStored
    notStoredBytes += other.notStoredBytes
  }
}

/// Counts a store's hits and misses: in total for this process
/// (``Store/stats()``), and per op until they are added to the store's record
/// of use, at most ``saveInterval`` after they happen, when the store is
/// released, or when the process exits.
final class UsageLedger: Sendable {
  /// How long counts wait before a background save.
  static let saveInterval: DispatchTimeInterval = .seconds(10)

  struct Counts {
    var memoryHits = 0
    var storeHits = 0
    var misses = 0
    var savedSeconds = 0.0
    var computeSeconds = 0.0
    var notStored = 0
    var notStoredBytes = 0

    mutating func add(_ other: Counts) {
      notStored += other.notStored
      notStoredBytes += other.notStoredBytes
      memoryHits += other.memoryHits
      storeHits += other.storeHits
      misses += other.misses
      savedSeconds += other.savedSeconds
      computeSeconds += other.computeSeconds
    }
  }

  /// An op's details by address, hashed without `Hasher` (as digests are,
  /// ``Digest/_rawHashValue(seed:)``): every hit counts its op here.
  private struct DetailsKey: Hashable {
    let address: UInt

    init(_ details: OpDetails) { address = UInt(bitPattern: ObjectIdentifier(details)) }

    func _rawHashValue(seed: Int) -> Int {
      Int(truncatingIfNeeded: Digest.mix(UInt64(address) ^ UInt64(UInt(bitPattern: seed))))
    }
  }

  private struct Pending {
    /// Holds the op's details, so that their identity (the key) is not reused
    /// by another op's while the counts wait.
    let details: OpDetails
    let op: OpID
    let version: CodeFingerprint
    let identity: Digest
    var counts = Counts()
  }

  private struct State {
    var session = Counts()
    var pending: [DetailsKey: Pending] = [:]
    var isSaveScheduled = false
    /// When each op version's use was last recorded (by op identity).
    var sighted: [Digest: Date] = [:]

  }

  /// How often a process records again that it uses an op version
  /// (``StoreWriter/sawVersions(_:at:)``): its first save records it, later
  /// saves when this much time has passed.
  static let sightingInterval: TimeInterval = 300

  private let state = Mutex(State())
  private let backend: any StoreWriter
  /// The program versions are recorded under (``Store/Configuration/program``;
  /// `nil`: this one).
  private let program: String?
  /// When the store was opened (``VersionSighting/since``).
  private let since: Date

  init(backend: any StoreWriter, program: String?, since: Date) {
    self.backend = backend
    self.program = program
    self.since = since
  }

  deinit { BeforeExit.remove(self) }

  /// This process's counts.
  var session: Counts { state.withLock { $0.session } }

  func count(_ op: Op, memoryHit saved: Double) {
    count(op) {
      $0.memoryHits += 1
      $0.savedSeconds += saved
    }
  }

  func count(_ op: Op, storeHit saved: Double) {
    count(op) {
      $0.storeHits += 1
      $0.savedSeconds += saved
    }
  }

  func count(_ op: Op, miss computed: Double) {
    count(op) {
      $0.misses += 1
      $0.computeSeconds += computed
    }
  }

  func count(_ op: Op, notStored bytes: Int) {
    count(op) {
      $0.notStored += 1
      $0.notStoredBytes += bytes
    }
  }

  private func count(_ op: Op, _ change: (inout Counts) -> Void) {
    let schedule = state.withLock { state in
      change(&state.session)
      // One lookup when the op is pending (every hit after its first).
      let key = DetailsKey(op.details)
      if let index = state.pending.index(forKey: key) {
        change(&state.pending.values[index].counts)
      } else {
        var pending = Pending(
          details: op.details, op: op.id, version: op.version, identity: op.identity)
        change(&pending.counts)
        state.pending[key] = pending
      }
      defer { state.isSaveScheduled = true }
      return !state.isSaveScheduled
    }
    if schedule { scheduleSave() }
  }

  private func scheduleSave() {
    BeforeExit.add(self, stage: .saving) { try? $0.save() }
    DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + Self.saveInterval) {
      [weak self] in
      try? self?.save()
    }
  }

  /// Adds the waiting counts to the store's record of use, and records that
  /// this program uses the op versions counted (so hits count as seeing
  /// their version: ``OpVersion/lastSeen``, ``OpVersion/isCurrent``), once
  /// per op version per ``sightingInterval``. Counts that could not be saved
  /// wait for the next save.
  func save() throws {
    let now = Date()
    let (pending, sightings) = state.withLock { state in
      defer {
        state.pending.removeAll()
        state.isSaveScheduled = false
      }
      var sightings: [VersionSighting] = []
      for entry in state.pending.values
      where state.sighted[entry.identity].map({ now.timeIntervalSince($0) >= Self.sightingInterval }
      ) ?? true {
        state.sighted[entry.identity] = now
        sightings.append(
          VersionSighting(
            op: entry.op, version: entry.version,
            location: program ?? VersionRegistration.thisProgram,
            since: since))
      }
      return (state.pending, sightings)
    }
    guard !pending.isEmpty else { return }
    do {
      try backend.sawVersions(sightings, at: now)
    } catch {
      // Recorded again at the next save.
      state.withLock { state in
        for sighting in pending.values { state.sighted[sighting.identity] = nil }
      }
    }
    var byOp: [OpID: OpUsage] = [:]
    let period = OpUsage.hour(of: Date())
    for entry in pending.values {
      byOp[entry.op, default: OpUsage(op: entry.op, period: period)].add(
        OpUsage(
          op: entry.op, period: period, memoryHits: entry.counts.memoryHits,
          storeHits: entry.counts.storeHits,
          misses: entry.counts.misses, timeSaved: .seconds(entry.counts.savedSeconds),
          computeTime: .seconds(entry.counts.computeSeconds), notStored: entry.counts.notStored,
          notStoredBytes: entry.counts.notStoredBytes))
    }
    do {
      try backend.addUsage(byOp.values.sorted { $0.op.name < $1.op.name })
    } catch {
      let schedule = state.withLock { state in
        for (key, entry) in pending {
          if state.pending[key] == nil {
            state.pending[key] = Pending(
              details: entry.details, op: entry.op, version: entry.version, identity: entry.identity
            )
          }
          state.pending[key]!.counts.add(entry.counts)
        }
        defer { state.isSaveScheduled = true }
        return !state.isSaveScheduled
      }
      if schedule { scheduleSave() }
      throw error
    }
  }
}
