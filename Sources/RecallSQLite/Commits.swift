import GRDBSQLite
import Synchronization

/// Counts commits to SQLite stores, so that a lookup's kept snapshot
/// (``LookupConnections``, decision 0113) ends as soon as the process wrote
/// something it may have to see. ``process`` counts every commit this
/// process makes; tests count their own connections' on a counter of their
/// own.
///
/// The count is kept by a WAL hook on every connection that writes (GRDB's
/// and the lookups'), which SQLite calls after each commit, once the data is
/// in the WAL. A WAL hook replaces SQLite's automatic checkpoint, which the
/// hook therefore does itself, as SQLite's own did.
final class Commits: Sendable {
  /// The commits of every connection of this process.
  static let process = Commits()

  private let counter = Atomic<UInt64>(0)

  /// Commits so far, read before a snapshot begins.
  var current: UInt64 { counter.load(ordering: .acquiring) }

  /// Frames in the WAL after which a commit checkpoints it (SQLite's default
  /// for `wal_autocheckpoint`).
  static let checkpointFrames: Int32 = 1000

  /// Counts the commits of a connection that writes. The counter must live
  /// as long as the connection (``process`` does).
  func count(on handle: OpaquePointer) {
    sqlite3_wal_hook(
      handle,
      { context, handle, database, frames in
        let commits = Unmanaged<Commits>.fromOpaque(context!).takeUnretainedValue()
        commits.counter.wrappingAdd(1, ordering: .releasing)
        if frames >= Commits.checkpointFrames {
          sqlite3_wal_checkpoint(handle, database)
        }
        return SQLITE_OK
      }, Unmanaged.passUnretained(self).toOpaque())
  }
}
