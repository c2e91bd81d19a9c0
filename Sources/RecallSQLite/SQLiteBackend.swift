internal import CRecallSQLite
import Foundation
import GRDB
import GRDBSQLite
import RecallCore
import Synchronization

/// The embedded default store: an SQLite database in WAL mode (through GRDB)
/// plus content-addressed blob files, in one directory.
///
/// ```
/// .recall/
///   recall.sqlite        calls, their inputs, and values up to the inline threshold
///   blobs/ab/cdef…       larger values, one file per cid
///   tmp/                 blob files being written
///   quarantine/          blob files that failed their integrity check
///   migrate.lock         taken while a process opens the database or upgrades its schema
/// ```
///
/// Many threads and processes may use one store at once: WAL lets readers run
/// alongside the one writer, and a busy writer waits up to
/// ``Configuration/busyTimeout``.
public final class SQLiteBackend: StoreWriter {
  /// Options of an SQLite store.
  public struct Configuration: Sendable {
    /// Values whose encoding is larger than this many bytes are stored as blob
    /// files rather than inside the database. Default: 64 KiB.
    public var inlineThreshold: Int = 64 << 10

    /// How long a write waits for another connection's lock before failing
    /// with `RecallError.storeLocked`. Default: 10 seconds.
    public var busyTimeout: Duration = .seconds(10)

    /// Whether to open an existing store for reading only, as tools that only
    /// look do: nothing is created, migrated or written, and writes fail.
    /// Default: `false`.
    public var readOnly = false

    /// Whether opening creates the store (its directory and database) where
    /// there is none. Tools that manage an existing store turn it off: a
    /// mistyped path or an unmounted share is then an error
    /// (`RecallError.notFound`), not a new empty store. Default: `true`.
    public var createsStore = true

    /// How long a lookup's snapshot is kept for the next lookups, in
    /// nanoseconds (decision 0113; tests lengthen it).
    var snapshotLifetime = LookupConnections.snapshotLifetime

    /// Creates the default configuration.
    public init() {}
  }

  /// The store's directory.
  public let path: String
  /// The store's options.
  public let configuration: Configuration

  /// The database through GRDB, opened on first use: a process that only
  /// looks calls up (the lookups have their own connections, which also save
  /// its usage counts, read values and parts, and take a miss's claim,
  /// version and environment: decisions 0123–0125) never pays for opening
  /// GRDB's pool (scenario C, store open). Other reads and writes go through
  /// ``pool``, which first waits for the calls being committed. Before the
  /// pool opens for writing, a lookup connection writes one page to an empty
  /// WAL, so that GRDB's opening changes no schema (decision 0118).
  var database: DatabasePool {
    get throws {
      try grdb.pool {
        guard !configuration.readOnly else { return }
        try? lookups.withConnection { $0.fillEmptyWAL(path + "/recall.sqlite-wal") }
      }
    }
  }
  /// The database, once every call handed to the committer is committed, so
  /// that queries and management see every call computed before them.
  var pool: DatabasePool {
    get throws {
      committer.flush()
      return try database
    }
  }
  private let grdb: LazyPool
  /// Whether GRDB's pool was opened (tests check that hits do not open it).
  var hasOpenedPool: Bool { grdb.isOpen }

  /// Runs `body` in an immediate write transaction, for the small writes a
  /// call makes when it is not found under its op's own version: the op's
  /// version (the first time this process resolves it) and, before it
  /// computes, its claim. On GRDB's writer once its pool is open, queued
  /// behind this process's other writes. Until then, on a lookup connection
  /// (which polls for SQLite's write lock while another connection holds
  /// it), so that a process's first miss does not open the pool on the
  /// calling thread: the committer opens it, in the background, to store
  /// the call (decisions 0124, 0125).
  ///
  /// - Parameter syncs: Whether the commit syncs. A version's does: a
  ///   store's copy registers versions that no call may follow. A claim's
  ///   does not (`synchronous = NORMAL`, then `FULL` again, as every
  ///   connection that writes has it): a claim need not survive a power
  ///   loss (its holder would not either). Not `OFF`: a checkpoint that the
  ///   commit runs (the WAL hook, `Commits`) would then copy earlier,
  ///   durable commits into the database without syncing it, before the WAL
  ///   starts over.
  func writeForMiss<T>(syncing syncs: Bool, _ body: (any FastStatementRunner) throws -> T)
    throws -> T
  {
    func committing(_ runner: some FastStatementRunner, _ body: () throws -> T) throws -> T {
      guard !syncs else { return try body() }
      try runner.fastRun("PRAGMA synchronous = NORMAL", []) { try $0.execute() }
      defer { _ = try? runner.fastRun("PRAGMA synchronous = FULL", []) { try $0.execute() } }
      return try body()
    }
    guard !hasOpenedPool else {
      return try database.writeWithoutTransaction { db in
        try committing(db) {
          var result: T?
          try db.inTransaction(.immediate) {
            result = try body(db)
            return .commit
          }
          guard let result else { preconditionFailure("a committed transaction ran its body") }
          return result
        }
      }
    }
    return try lookups.withConnection { connection in
      try committing(connection) { try connection.writeTransaction { try body(connection) } }
    }
  }

  /// Commits computed calls in the background, several per transaction.
  let committer = GroupCommitter()
  /// Connections for the lookup of every call (`loadResult`), and the small
  /// reads and writes that must not open GRDB's pool.
  let lookups: LookupConnections
  let blobs: BlobDirectory
  /// The first call row that must have a checksum, once read
  /// (`checkedCallsFrom()`).
  let checkedCallsStart = Mutex<Int64?>(nil)
  /// Run by `record` between writing blob files and taking the write lock:
  /// lets tests put a garbage collection exactly there.
  let beforeCommit = Mutex<(@Sendable () -> Void)?>(nil)

  public var location: String { path }

  /// Turns SQLite's memory statistics off for the whole process.
  ///
  /// sqlite.org recommends it (decision 0112): the statistics take one
  /// global lock on every allocation SQLite makes, which threads looking
  /// calls up at once wait for (`Benchmarks/RESULTS.md`, scenario H: a
  /// cached sweep on two cores, 8.9–9.2 µs per point with them, 7.5–8.0 µs
  /// without). `sqlite3_memory_used()`, SQLite's heap limits and
  /// `sqlite3_status64()` then do nothing.
  ///
  /// Call it at the start of the program, before anything uses SQLite:
  /// SQLite allows no other call while it changes this setting, and keeps
  /// its setting once anything has used it (this then returns `false`).
  ///
  /// - Returns: Whether the statistics are now off.
  @discardableResult
  public static func turnOffMemoryStatistics() -> Bool {
    recall_sqlite_disable_memory_statistics() == SQLITE_OK
  }

  /// Opens the store in a directory, creating it (and its schema) if needed
  /// (unless ``Configuration/createsStore`` is off).
  ///
  /// - Throws: `RecallError.notFound` when there is no store and none may be
  ///   created, `RecallError.storeDamaged` when its database is damaged,
  ///   `RecallError.storeFromNewerVersion` when a newer version of
  ///   Recall wrote the store, `RecallError.storeLocked` when another process
  ///   holds its lock past the busy timeout, `RecallError.storeUnavailable`
  ///   when the directory or database cannot be opened, or cannot be written
  ///   unless `configuration.readOnly` is set. (GRDB's pool opens at the
  ///   first write or query: a failure to open it, rarer, is that
  ///   operation's error.)
  public init(path: String, configuration: Configuration = Configuration()) throws {
    self.path = path
    self.configuration = configuration
    let databasePath = path + "/recall.sqlite"
    guard access(path + "/" + BlobDirectory.markerName, F_OK) != 0 else {
      throw RecallError.storeUnavailable(
        path: path,
        detail:
          "this directory is a PostgreSQL store's blob directory (it has a \(BlobDirectory.markerName) "
          + "file); open that store with its postgres:// URL, or give the SQLite store another directory"
      )
    }
    if configuration.readOnly || !configuration.createsStore {
      guard access(databasePath, F_OK) == 0 else {
        throw RecallError.notFound(
          "database (recall.sqlite)", path: path,
          hint: "Check the path, or set RECALL_STORE to the directory a Recall program wrote; "
            + "a store is created by the first program that memoizes into it.")
      }
    }
    if configuration.readOnly {
      blobs = BlobDirectory(existing: path)
    } else {
      blobs = try BlobDirectory(root: path)
    }
    grdb = LazyPool(path: path, configuration: configuration)
    if !configuration.readOnly {
      // A new store's database is created now, before anything looks in it.
      if access(databasePath, F_OK) != 0 {
        _ = try grdb.pool()
      } else if access(databasePath, W_OK) != 0 || access(path, W_OK) != 0 {
        // Said now, not as a warning at every call the store cannot keep.
        throw RecallError.storeUnavailable(
          path: path,
          detail:
            "its database or directory cannot be written (\(String(cString: strerror(errno)))); fix their permissions, or "
            + "open the store read-only (SQLiteBackend.Configuration.readOnly) to look at it")
      }
    }
    lookups = LookupConnections(
      path: databasePath, readOnly: configuration.readOnly, busyTimeout: configuration.busyTimeout,
      snapshotLifetime: configuration.snapshotLifetime)
    try SQLiteBackend.mapErrors(path: path) { try migrate(readOnly: configuration.readOnly) }
    // Run the lookup path once now (its connection, statement preparation, the
    // first decoding of each column type), so that the user's first hit does
    // not pay for it.
    let someCall = try SQLiteBackend.mapErrors(path: path) {
      try lookups.withConnection { connection in
        // An inline value: warming up must not read (or quarantine) blob files.
        try FastStatement.run(
          connection,
          "SELECT call.call_id FROM call JOIN value ON value.id = call.output WHERE value.bytes IS NOT NULL LIMIT 1",
          []
        ) { row in
          // A damaged id is for the call that reads it to meet (and recompute).
          try row.step() ? try? row.digest(0) : nil
        }
      }
    }
    // Only the read: a check that fails would quarantine a value here, out
    // of sight of the run's warnings (the call that needs it does that).
    _ = try? resultRow(CallID(someCall ?? Digest.sha256("recall.warm-up")))
    if !configuration.readOnly {
      BeforeExit.add(self, stage: .closing) { $0.emptyWALBeforeExit() }
    }
  }

  deinit {
    BeforeExit.remove(self)
    // Before GRDB's connections: the last to close removes the WAL.
    lookups.close()
  }

  /// Leaves the next process no WAL to replay, when this one exits without
  /// releasing its store (a program's store usually lives until `exit`).
  ///
  /// Closing the last connection to a database copies its WAL into it and
  /// removes it; a process that exits with its connections open leaves the
  /// WAL behind, and the next process to open the store reads every frame
  /// of it to rebuild its index first: 35 ms for a sweep's 22 MB (scenarios
  /// C and H). So at exit, once its calls are stored and its counts saved,
  /// a process empties the WAL, unless another connection uses the
  /// database then (that one's process does it when it exits).
  func emptyWALBeforeExit() {
    // The process's own kept snapshots would keep the WAL too.
    lookups.endIdleSnapshots()
    try? lookups.withConnection { $0.checkpointIfUnused() }
  }

  /// GRDB's pool of connections to the database, opened the first time it is
  /// needed.
  private final class LazyPool: Sendable {
    private let path: String
    private let configuration: Configuration
    private let opened = Mutex<DatabasePool?>(nil)

    init(path: String, configuration: Configuration) {
      self.path = path
      self.configuration = configuration
    }

    var isOpen: Bool { opened.withLock { $0 != nil } }

    /// The pool, opened now if it is not yet, after `beforeOpening`.
    func pool(beforeOpening: () -> Void = {}) throws -> DatabasePool {
      try opened.withLock { opened in
        if let opened { return opened }
        beforeOpening()
        let pool = try open()
        opened = pool
        return pool
      }
    }

    private func open() throws -> DatabasePool {
      let databasePath = path + "/recall.sqlite"
      var grdb = GRDB.Configuration()
      grdb.readonly = configuration.readOnly
      grdb.busyMode = .timeout(configuration.busyTimeout.inSeconds)
      grdb.label = "Recall"
      // Page caches (SQLite's default is 2 MiB): the writer updates a dozen
      // B-trees keyed by hashes, at random places, on every call, and re-read
      // their pages from the file system once a store outgrew its cache
      // (scenario B with many calls stored). Readers start over after every
      // commit of another connection.
      grdb.prepareDatabase { db in
        try db.execute(
          sql: db.configuration.readonly
            ? "PRAGMA cache_size = -16384" : "PRAGMA cache_size = -65536")
        // The WAL file keeps the size of the largest transaction it held
        // (a group commit of tens of thousands of calls rewrites most index
        // pages: 425 MB after a million calls, more than the database) unless
        // it is truncated when it starts over.
        if !db.configuration.readonly {
          try db.execute(sql: "PRAGMA journal_size_limit = \(SQLiteBackend.walSizeLimit)")
          // Its commits end the lookups' kept snapshots.
          if let handle = db.sqliteConnection { Commits.process.count(on: handle) }
        }
      }
      return try SQLiteBackend.mapErrors(path: path) {
        if configuration.readOnly {
          return try DatabasePool(path: databasePath, configuration: grdb)
        }
        // Opening for writing may create the database and switch it to WAL,
        // which fails at once (no busy wait) while another process does the
        // same: processes that open a store at the same moment take turns.
        return try SQLiteBackend.withLock(path + "/migrate.lock", path: path) {
          let pool = try DatabasePool(path: databasePath, configuration: grdb)
          // GRDB's WAL set-up (after `prepareDatabase`) leaves its writer at
          // `synchronous = NORMAL`, where a commit is durable only at the
          // next checkpoint. Each group commit syncs: "reported stored"
          // means durable (decision 0049). A process's first claim used to
          // set this, on the writer, as a side effect (decision 0124).
          try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
          return pool
        }
      }
    }
  }

  /// The size the WAL file is cut back to when a connection that writes
  /// starts it over (`journal_size_limit`): 64 MiB. Without it the WAL keeps
  /// the size of the largest transaction it held (a group commit of tens of
  /// thousands of calls: 425 MB after a million calls).
  static let walSizeLimit = 64 << 20

  /// Runs GRDB work, turning its errors into `RecallError`s that say what to do.
  static func mapErrors<T>(path: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as RecallError {
      throw error
    } catch let error as DatabaseError
      where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    {
      throw RecallError.storeLocked(path: path, detail: error.message ?? "\(error)")
    } catch let error as DatabaseError where isDamage(error) {
      throw RecallError.storeDamaged(
        path: path, file: path + "/recall.sqlite",
        detail: error.message ?? "\(error.resultCode)")
    } catch {
      throw RecallError.storeUnavailable(path: path, detail: "\(error)")
    }
  }
}

/// Whether SQLite's error says the database file is damaged: SQLite's own
/// verdict, or an error that Recall's fixed statements over a schema it
/// checked cannot otherwise meet (the schema's text was damaged).
private func isDamage(_ error: DatabaseError) -> Bool {
  if error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB { return true }
  guard error.resultCode == .SQLITE_ERROR, let message = error.message else { return false }
  return ["malformed", "unsupported file format", "no such column", "no such table"].contains {
    message.contains($0)
  }
}

extension Store {
  /// Opens (or creates) the embedded SQLite store in a directory.
  ///
  /// ```swift
  /// let store = try Store.sqlite(at: ".recall")
  ///
  /// var quiet = Store.Configuration()
  /// quiet.printsWarnings = false
  /// var readOnly = SQLiteBackend.Configuration()
  /// readOnly.readOnly = true
  /// let reader = try Store.sqlite(at: ".recall", configuration: quiet, backend: readOnly)
  /// ```
  ///
  /// - Parameters:
  ///   - path: The store's directory.
  ///   - configuration: What every store has (memory layer, warnings, claims).
  ///   - backend: What the SQLite backend has (busy timeout, read-only, …).
  /// - Throws: `RecallError` when the store cannot be opened; see
  ///   ``SQLiteBackend/init(path:configuration:)``.
  public static func sqlite(
    at path: String, configuration: Store.Configuration = .init(),
    backend: SQLiteBackend.Configuration = .init()
  ) throws -> Store {
    // The runtime's one-time warm-up overlaps the database's opening. (The
    // store, not the backend, starts it: a backend never calls up into the
    // runtime.)
    Store.warmUpInBackground()
    return Store(
      backend: try SQLiteBackend(path: path, configuration: backend), configuration: configuration)
  }
}
