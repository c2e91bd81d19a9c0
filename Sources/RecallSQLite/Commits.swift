import Foundation
import GRDBSQLite
import Synchronization

/// Counts the commits this process makes to any SQLite store, so that a
/// lookup's kept snapshot (``LookupConnections``, decision 0113) ends as soon
/// as the process wrote something it may have to see.
///
/// The count is kept by a WAL hook on every connection that writes (GRDB's
/// and the lookups'), which SQLite calls after each commit, once the data is
/// in the WAL. A WAL hook replaces SQLite's automatic checkpoint, which the
/// hook therefore does itself, as SQLite's own did.
enum Commits {
  private static let counter = Atomic<UInt64>(0)

  /// Commits so far, read before a snapshot begins.
  static var current: UInt64 { counter.load(ordering: .acquiring) }

  /// Frames in the WAL after which a commit checkpoints it (SQLite's default
  /// for `wal_autocheckpoint`).
  static let checkpointFrames: Int32 = 1000

  /// Counts the commits of a connection that writes.
  static func count(on handle: OpaquePointer) {
    sqlite3_wal_hook(
      handle,
      { _, handle, database, frames in
        Commits.counter.wrappingAdd(1, ordering: .releasing)
        if frames >= Commits.checkpointFrames {
          sqlite3_wal_checkpoint(handle, database)
        }
        return SQLITE_OK
      }, nil)
  }

  /// The monotonic clock, in nanoseconds.
  static func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
  }
}
