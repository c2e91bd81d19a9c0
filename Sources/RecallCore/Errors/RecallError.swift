/// An error raised by Recall.
///
/// Errors are identified by a ``Code`` so that new cases can be added without
/// breaking clients. Match them in `catch` clauses by code:
///
/// ```swift
/// do {
///   let store = try Store.sqlite(at: ".recall")
/// } catch RecallError.storeFromNewerVersion {
///   print("upgrade Recall to open this store")
/// }
/// ```
public struct RecallError: Error, Sendable, CustomStringConvertible {
  /// The kind of a ``RecallError``; also a pattern that matches errors of
  /// that kind.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    let rawValue: String
    public var description: String { rawValue }

    /// Matches a ``RecallError`` with this code.
    public static func ~= (code: Code, error: any Error) -> Bool {
      (error as? RecallError)?.code == code
    }
  }

  /// The kind of error.
  public let code: Code
  /// What went wrong and what to do next.
  public let message: String

  public var description: String { message }

  init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// The store was written by a newer version of Recall.
  public static let storeFromNewerVersion = Code(rawValue: "storeFromNewerVersion")
  /// The store's database stayed locked by another connection past the timeout.
  public static let storeLocked = Code(rawValue: "storeLocked")
  /// The store could not be opened, read or written.
  public static let storeUnavailable = Code(rawValue: "storeUnavailable")
  /// A file of the store's own (its database) is damaged.
  public static let storeDamaged = Code(rawValue: "storeDamaged")
  /// A stored value failed its integrity check.
  public static let corruptValue = Code(rawValue: "corruptValue")
  /// A stored value is in an encoding format a newer version of Recall wrote.
  public static let valueFromNewerVersion = Code(rawValue: "valueFromNewerVersion")
  /// The store has no op, version or call by the given name.
  public static let notFound = Code(rawValue: "notFound")
  /// The store was opened for reading only (``Store/init(reading:configuration:)``).
  public static let readOnly = Code(rawValue: "readOnly")
  /// A version prefix matches more than one version.
  public static let ambiguous = Code(rawValue: "ambiguous")
  /// An external program Recall needs is not installed.
  public static let missingTool = Code(rawValue: "missingTool")
  /// A value given to Recall cannot be used as asked: an argument or result
  /// that cannot be encoded, or a result its op's ``StoragePolicy`` refuses.
  public static let invalidValue = Code(rawValue: "invalidValue")

  /// A memoized call ran in a reuse-only scope (``Memoization/reusingOnly(_:)-(()->R)``)
  /// and its result is not stored.
  public static let notStored = Code(rawValue: "notStored")

  /// A stored value does not decode as the type asked for: the type changed
  /// since it was stored (a ``Lazy`` read after its hit).
  public static let undecodableValue = Code(rawValue: "undecodableValue")

  /// A call a reuse-only scope found no stored result for.
  public static func notStored(_ call: CallReference) -> RecallError {
    RecallError(
      notStored,
      "\(call.op.name) [\(call.call)] is not stored, and this scope only reuses results "
        + "(Memoization.reusingOnly): run it outside the scope to compute it, or check first "
        + "with its companion's isStored(), as in $name(…).isStored()")
  }

  /// A value that cannot be used as asked.
  public static func invalidValue(_ message: String) -> RecallError {
    RecallError(invalidValue, message)
  }

  /// An external program that is not installed.
  public static func missingTool(_ name: String, install: String) -> RecallError {
    RecallError(missingTool, "\(name) is not installed (it is not on the PATH). \(install)")
  }

  /// Something the store does not have.
  public static func notFound(_ what: String, path: String, hint: String) -> RecallError {
    RecallError(notFound, "The store at '\(path)' has no \(what). \(hint)")
  }

  /// A prefix that names more than one thing.
  public static func ambiguous(_ what: String, candidates: [String]) -> RecallError {
    RecallError(
      ambiguous,
      "'\(what)' matches \(candidates.count) versions (\(candidates.joined(separator: ", "))); "
        + "give more characters.")
  }

  /// An op name that stands for several ops: overloads, whose names differ
  /// by their parameters' types.
  public static func ambiguousOp(_ name: String, candidates: [String]) -> RecallError {
    RecallError(
      ambiguous,
      "'\(name)' names \(candidates.count) ops (\(candidates.joined(separator: ", "))); "
        + "give the full name, with the parameters' types.")
  }

  public static func storeFromNewerVersion(path: String, unknownMigrations: [String]) -> RecallError
  {
    RecallError(
      storeFromNewerVersion,
      "The store at '\(path)' was written by a newer version of Recall (it has schema "
        + "migrations this version does not know: \(unknownMigrations.joined(separator: ", "))). "
        + "Upgrade Recall to use it, or point RECALL_STORE at another directory.")
  }

  /// A database that stayed locked.
  public static func storeLocked(path: String, detail: String) -> RecallError {
    RecallError(
      storeLocked,
      "The store at '\(path)' is locked by another connection (\(detail)). Wait for the other "
        + "process to finish, or raise the busy timeout in the store's configuration.")
  }

  /// A change asked of a store opened for reading only.
  public static func readOnly(path: String, change: String) -> RecallError {
    RecallError(
      readOnly,
      "The store at '\(path)' was opened for reading only, so it cannot \(change). "
        + "Open it for writing (Store.sqlite(at:), Store.postgres(url:), or a `recall` command that changes the store)."
    )
  }

  /// A store that cannot be opened, read or written.
  public static func storeUnavailable(path: String, detail: String) -> RecallError {
    RecallError(storeUnavailable, "The store at '\(path)' is unavailable: \(detail)")
  }

  /// A store whose database file is damaged (disk or file system damage, a
  /// bad copy): what is wrong with which file, and what the user can do.
  public static func storeDamaged(path: String, file: String, detail: String) -> RecallError {
    RecallError(
      storeDamaged,
      "The store at '\(path)' is damaged: its database \(file) cannot be read (\(detail)). "
        + "Restore the directory from a backup if you have one; otherwise copy what can still "
        + "be read into a new store with `recall export --store '\(path)' --to NEW-DIRECTORY` "
        + "(it fails if the damage is in what it copies), or move the directory away and let "
        + "the next run start a new store, recomputing what it needs.")
  }

  /// A stored id (a call id, cid or history id column) that is not 32
  /// bytes: the database was damaged or written by something other than Recall.
  package static var malformedStoredID: RecallError {
    storeUnavailable(path: "", detail: "a stored id is not 32 bytes")
  }

  /// A stored call whose record fails its checksum: the row that names its
  /// output was damaged.
  public static func corruptCall(_ id: CallID, path: String, detail: String) -> RecallError {
    RecallError(
      corruptValue,
      "The stored record of call \(id.digest.hex) in '\(path)' is damaged (\(detail)). Recall "
        + "recomputes the call and records it again.")
  }

  /// A value in a format this Recall cannot read, which a newer one wrote.
  public static func valueFromNewerVersion(_ cid: ContentID, path: String, detail: String)
    -> RecallError
  {
    RecallError(
      valueFromNewerVersion,
      "The stored value \(cid.hex) in '\(path)' was written by a newer version of Recall "
        + "(\(detail)). Recall recomputes it and stores it again in the format it writes, which "
        + "newer versions read too; upgrade Recall to keep the newer encoding.")
  }

  /// A stored value that does not decode as `type`.
  static func undecodableValue(_ cid: ContentID, as type: Any.Type, detail: String) -> RecallError {
    RecallError(
      undecodableValue,
      "The stored value \(cid.hex) no longer decodes as \(type) (\(detail)): its type changed "
        + "since it was stored. The call that returned it was forgotten; call it again to compute "
        + "it with the current type.")
  }

  /// A value whose bytes do not hash to its content id.
  public static func corruptValue(_ cid: ContentID, path: String, detail: String) -> RecallError {
    RecallError(
      corruptValue,
      "The stored value \(cid.hex) in '\(path)' is corrupt (\(detail)). Recall quarantines it "
        + "and recomputes the calls that need it.")
  }
}
