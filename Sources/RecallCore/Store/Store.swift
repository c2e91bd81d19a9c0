import Foundation
import Synchronization

/// A store of memoized calls: a backend (SQLite, PostgreSQL or memory) with a
/// memory layer, single flight and an event stream in front of it.
///
/// Open one with `Store.sqlite(at:)` (from the `Recall` module) or
/// ``inMemory(configuration:)``, and make it the store memoized functions use
/// with ``activate(_:)-(()->R)``:
///
/// ```swift
/// let store = try Store.sqlite(at: ".recall")
/// try store.activate {
///   print(train(data, epochs: 10))
/// }
/// ```
public final class Store: Sendable {
  /// Options of a store that apply to every backend.
  public struct Configuration: Sendable {
    /// The byte budget of the memory layer of decoded results, least recently
    /// used first out. Default: 256 MiB.
    public var memoryBudget: Int = 256 << 20

    /// Whether warnings are printed to standard error as well as emitted as
    /// events. Default: `true`.
    public var printsWarnings: Bool = true

    /// How processes sharing the store keep from computing the same call
    /// twice: a miss claims its call, and others wait for its result.
    public var claims = ClaimPolicy()

    /// The program this process's versions are recorded under: each program
    /// has its own current version of every op (``OpVersion/isCurrent``), so
    /// two checkouts of a project on different branches sharing a store do
    /// not make each other's results stale. Default: the host name and the
    /// executable's path (``VersionRegistration/thisProgram``), found the
    /// first time it is needed.
    public var program: String? = nil

    /// Which hits are run again to check that they give the stored result.
    /// Default: what `RECALL_AUDIT` and `RECALL_AUDIT_REPLACE` ask for
    /// (``AuditPolicy/environment``), off when they are unset.
    public var audit = AuditPolicy.environment

    /// What is kept of every op's results, unless the op says otherwise
    /// (`@Memoized(storage:)`). Default: every result, in the store, forever
    /// (``StoragePolicy/storeEverything``).
    public var storage = StoragePolicy.storeEverything

    /// The bytes the store's values may take on disk, or `nil` for no bound.
    /// Default: `nil` (nothing is ever evicted).
    ///
    /// With a budget, the store checks its size in the background after every
    /// twentieth of the budget this process stores, and when it is over,
    /// evicts the results cheapest to compute again per byte down to nine
    /// tenths of the budget (``Store/evict(toFit:)``). Evicted calls keep
    /// their records and are computed again when next called. The budget
    /// bounds the bytes of results; the records of calls (a few hundred
    /// bytes each) are kept whatever the budget.
    public var diskBudget: Int? = nil

    /// Creates the default configuration.
    public init() {}
  }

  /// Where calls and values are kept. Users read through the store's own
  /// methods; the package's tests reach the backend directly.
  package let backend: any StoreWriter
  /// The store's options.
  public let configuration: Configuration

  let memory: MemoryLayer
  /// ``StoragePolicy/expiresAfter`` of the store's policy, in seconds, read
  /// by every hit of an op without its own.
  let expirySeconds: Double?
  let flights = SingleFlight()
  /// The claims this store holds on calls it computes, renewed while they run.
  let claimKeeper: ClaimKeeper
  /// Keeps the store within ``Configuration/diskBudget``.
  let diskBudget: DiskBudget
  let eventCenter = EventCenter()
  /// Set when the store is released: the backend's completions check it
  /// instead of holding the store (so that a store is never released, and
  /// deinitialized, on the backend's writer thread).
  let released = ReleaseFlag()
  /// Hits and misses: this process's, and those waiting to be added to the
  /// store's record of use.
  let ledger: UsageLedger
  let histories = HistoryMap()
  /// The ops (by identity) whose last call in this process took less than
  /// ``ClaimPolicy/quickCall``: their misses run without claiming.
  let quickOps = Mutex<Set<Digest>>([])
  /// The ops that met a value a newer Recall wrote, said once per op
  /// (``RecallWarning/Kind/valueFromNewerVersion``).
  let opsWithNewerValues = Mutex<Set<String>>([])
  /// Each op version's semantic version in this store, looked up (and the
  /// version recorded) once per process.
  let resolutions = Mutex<[Digest: ResolvedOp]>([:])
  /// The environments this store has saved in this process, by the build
  /// section they come from, with when (seconds since 1970;
  /// ``Store/environment(of:)``).
  let savedEnvironments = Mutex<[UInt: (id: EnvironmentID, savedAt: Double)]>([:])
  /// This store's number in the process, never reused, so that ops can cache
  /// their resolutions in it (``OpState``).
  let serial = Store.serials.add(1, ordering: .relaxed).newValue
  /// Bumped when the store's semantic versions change (an accepted version),
  /// which voids the ops' cached resolutions.
  let generation = Atomic<UInt64>(0)
  /// The store's count of accepted changes when this store last looked
  /// (``StoreReader/acceptCount()``), or -1 before its first registration.
  let acceptCountSeen = Atomic<Int>(-1)
  /// When this store was opened: its versions' ``VersionSighting/since``,
  /// so that a process still running older code does not make it current
  /// again over a process started after it.
  let opened = Date()
  private static let serials = Atomic<UInt64>(0)

  /// Creates a store in front of a backend.
  public convenience init(backend: any StoreWriter, configuration: Configuration = Configuration())
  {
    self.init(backend: backend, configuration: configuration, warmingUp: true)
  }

  init(backend: any StoreWriter, configuration: Configuration, warmingUp: Bool) {
    self.backend = backend
    self.configuration = configuration
    self.expirySeconds = configuration.storage.expiresAfter?.inSeconds
    self.memory = MemoryLayer(budget: configuration.memoryBudget)
    self.claimKeeper = ClaimKeeper(backend: backend, lease: configuration.claims.lease)
    self.ledger = UsageLedger(backend: backend, program: configuration.program, since: opened)
    self.diskBudget = DiskBudget(
      budget: configuration.diskBudget, backend: backend, center: eventCenter,
      printsWarnings: configuration.printsWarnings)
    if warmingUp { Store.warmUpInBackground() }
    if configuration.printsWarnings { _ = Store.reportEnvironmentOnce }
  }

  /// Says once per process what is wrong with the environment's settings.
  private static let reportEnvironmentOnce: Void = {
    guard let problem = AuditPolicy.environmentProblem else { return }
    FileHandle.standardError.write(Data("recall: warning: \(problem)\n".utf8))
  }()

  deinit {
    released.set()
    backend.flush()
    try? ledger.save()
    claimKeeper.stop()
  }

  /// Waits until every result this store computed is stored.
  ///
  /// A memoized call returns its result as soon as it is computed; the store
  /// commits results in the background, several at a time, soon after
  /// (``RecallEvent/didStore(_:bytes:)`` says when; scenario B). Results not
  /// yet committed are already served to this process's calls. Releasing the
  /// store, and the process exiting normally, wait for them too; a process
  /// killed meanwhile loses only those results, which are computed again.
  public func flush() {
    backend.flush()
  }

  /// Starts the process's one-time warm-up on another thread (once), for a
  /// store's factory (`Store.sqlite(at:)`) to call before its backend opens
  /// its database, so that the two overlap. Stores do not wait for it: a
  /// first call that runs while it does shares its one-time costs instead
  /// (scenario C of `recall-bench`).
  package static func warmUpInBackground() {
    _ = startWarmUp
  }

  private static let startWarmUp: Void = {
    Thread.detachNewThread { _ = Store.warmUp }
  }()

  /// Runs a call through every path of the runtime once per process, when the
  /// first store opens, so that one-time costs (the crypto library, the Swift
  /// runtime's conformance caches, task-local and lock set-up) are not paid
  /// by the user's first call (scenario C, first hit after open).
  private static let warmUp: Void = {
    var configuration = Configuration()
    configuration.printsWarnings = false
    let store = Store(backend: InMemoryBackend(), configuration: configuration, warmingUp: false)
    let op = Op.declared(
      at: OpSite(name: "warmUp()", fileID: "Recall/Store.swift", fingerprint: "0"),
      FingerprintTable(versions: [:], isGenerated: true))
    _ = store.memoize(op, [Argument("x", 0)]) { 0 }
    if let call = store.prepare(op, [Argument("x", 0)], [], result: Int.self) {
      store.memory.remove(call.id)
    }
    _ = store.memoize(op, [Argument("x", 0)]) { 0 }  // served by the backend: the decoding path
  }()

  /// Creates a store that keeps everything in memory; it is gone when the
  /// process ends.
  public static func inMemory(configuration: Configuration = Configuration()) -> Store {
    Store(backend: InMemoryBackend(), configuration: configuration)
  }

  /// Calls `handler` with every event of this store, on the thread that
  /// produced it, until the returned token is cancelled or released.
  ///
  /// ```swift
  /// let token = store.observe { event in
  ///   if case .willExecute(let call) = event { print("running", call.op) }
  /// }
  /// // ... the work whose events you want ...
  /// token.cancel()
  /// ```
  ///
  /// Keep the token for as long as you want events: in a variable that lives
  /// that long (a top-level `let` in `main.swift` lives for the whole program,
  /// a local one until its scope ends). `_ = store.observe { … }` releases
  /// the token at once, and observes nothing.
  public func observe(_ handler: @escaping @Sendable (RecallEvent) -> Void) -> ObservationToken {
    ObservationToken(center: eventCenter, id: eventCenter.add(handler))
  }

  /// Returns a stream of this store's events from now on.
  public func events() -> AsyncStream<RecallEvent> {
    let (stream, continuation) = AsyncStream<RecallEvent>.makeStream()
    let id = eventCenter.add { continuation.yield($0) }
    let center = eventCenter
    continuation.onTermination = { _ in center.remove(id) }
    return stream
  }

  /// Counts what the store holds and what this process did with it.
  public func stats() throws -> StoreStats {
    let summary = try backend.summary()
    let session = ledger.session
    return StoreStats(
      calls: summary.calls, values: summary.values, bytes: summary.bytes,
      hits: session.memoryHits + session.storeHits, memoryHits: session.memoryHits,
      misses: session.misses, timeSaved: .seconds(session.savedSeconds),
      computeTime: .seconds(session.computeSeconds), notStored: session.notStored)
  }

  /// Adds this process's hits and misses that have not been saved yet to the
  /// store's record of use (``usage(of:since:)``, `recall stats --by day`).
  ///
  /// Counts are saved in the background at most ten seconds after they
  /// happen, when the store is released and when the process exits, so call
  /// this only to read them back at once. A crash loses at most the counts of
  /// those last seconds, never a result.
  public func saveUsage() throws {
    try ledger.save()
  }

  /// Returns the store's record of use: per op and hour, how many calls were
  /// answered from the store or ran, with the time saved and spent, oldest
  /// first. This process's waiting counts are saved first.
  ///
  /// - Parameters:
  ///   - op: Only this op's counts; every op's when `nil`.
  ///   - since: Only the hours that end after this date.
  public func usage(of op: OpID? = nil, since: Date? = nil) throws -> [OpUsage] {
    try? ledger.save()
    return try backend.usage(of: op.map { try self.op(named: $0) }, since: since)
  }

  func warn(_ kind: RecallWarning.Kind, _ call: CallReference?, _ message: String) {
    Store.warn(kind, call, message, printing: configuration.printsWarnings, to: eventCenter)
  }

  /// Emits (and prints, when `printing`) a warning.
  static func warn(
    _ kind: RecallWarning.Kind, _ call: CallReference?, _ message: String, printing: Bool,
    to center: EventCenter
  ) {
    let warning = RecallWarning(kind: kind, call: call, message: message)
    if printing {
      FileHandle.standardError.write(Data((warning.description + "\n").utf8))
    }
    center.emit(.warning(warning))
  }
}

/// What a store holds and what this process did with it.
///
/// Its description is one line for people:
///
/// ```
/// executed: 12, reused: 26 (14 from memory), time saved: 3.41 s, compute time: 1.20 s; store: 52 calls, 40 values, 1.5 MiB
/// ```
public struct StoreStats: Sendable, Hashable, CustomStringConvertible {
  /// Stored calls.
  public var calls: Int
  /// Stored values (one per cid).
  public var values: Int
  /// Bytes of stored values.
  public var bytes: Int
  /// Calls answered from the memory layer or the store in this process.
  public var hits: Int
  /// The part of ``hits`` answered from the memory layer.
  public var memoryHits: Int
  /// Calls that ran their body in this process.
  public var misses: Int
  /// The time the reused calls took when they ran.
  public var timeSaved: Duration
  /// The time spent running bodies in this process.
  public var computeTime: Duration
  /// Results of this process that a ``StoragePolicy`` did not store.
  public var notStored: Int = 0

  public var description: String {
    "executed: \(misses), reused: \(hits) (\(memoryHits) from memory), "
      + "time saved: \(Readable.duration(timeSaved.inSeconds)), "
      + "compute time: \(Readable.duration(computeTime.inSeconds))"
      + (notStored == 0 ? "" : ", not stored: \(notStored)")
      + "; store: \(calls) calls, \(values) values, \(Readable.size(bytes))"
  }
}

/// Whether a store was released, for work that outlives it (a commit's
/// completion) and must not hold it.
final class ReleaseFlag: Sendable {
  private let flag = Atomic<Bool>(false)

  var isSet: Bool { flag.load(ordering: .acquiring) }

  func set() { flag.store(true, ordering: .releasing) }
}
