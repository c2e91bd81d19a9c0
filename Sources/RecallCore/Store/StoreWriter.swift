import Foundation

/// Where a store keeps its calls and values: the embedded SQLite database, a
/// PostgreSQL server, or memory. A backend reads (``StoreReader``) and writes.
///
/// Every write is atomic: a call is recorded with every value it needs or not
/// at all. Implementations must be safe to call from many threads at once.
public protocol StoreWriter: StoreReader {
  // MARK: Recording calls

  /// Stores a call and the values it names, atomically: either the call and
  /// every value it needs are stored, or nothing is.
  ///
  /// A call with the same id replaces the stored one; values already stored are
  /// kept (one copy per cid).
  func record(_ call: CallRecord, values: [EncodedValue]) throws

  /// Stores a call like ``record(_:values:)``, possibly after returning, so
  /// that a backend can commit several calls at once; calls `completion` with
  /// `nil` once the call is stored, or with the error that kept it from being
  /// stored, on any thread.
  ///
  /// Until then, ``StoreReader/loadResult(_:)`` and ``claim(_:of:by:at:until:replacing:)``
  /// of this backend see the call as stored, and its other methods wait for
  /// it. A backend without batching stores it before returning (the default).
  /// Keep the backend (or ``flush()`` it) until the completion is called: a
  /// batching backend released before fails the calls it still holds.
  func record(
    _ call: CallRecord, values: [EncodedValue],
    completion: @escaping @Sendable ((any Error)?) -> Void)

  /// Waits until every call given to ``record(_:values:completion:)`` is
  /// stored or has failed. The default returns at once.
  func flush()

  // MARK: Claims

  /// Claims a call for `claimant` until `expiry`, atomically: returns
  /// ``ClaimOutcome/stored`` when the store has a complete record of the call,
  /// ``ClaimOutcome/held(_:)`` when another claimant's lease on it runs past
  /// `now` (unless that claimant is `dead`), and otherwise takes (or takes
  /// over) the claim and returns ``ClaimOutcome/acquired``.
  ///
  /// ``record(_:values:)`` ends the claim on the call it stores, in the same
  /// transaction, so a waiter sees either the claim or the result.
  ///
  /// - Parameters:
  ///   - id: The call.
  ///   - op: The call's op, shown with the claim (`recall running`).
  ///   - claimant: The process claiming it.
  ///   - now: The time of the claim.
  ///   - expiry: When the claim's lease runs out unless renewed
  ///     (``renewClaims(by:until:)``).
  ///   - dead: A claimant known to have died (its process is gone), whose
  ///     claim is taken over before its lease runs out.
  func claim(
    _ id: CallID, of op: OpID, by claimant: Claimant, at now: Date, until expiry: Date,
    replacing dead: Claimant?
  ) throws -> ClaimOutcome

  /// Extends every claim `claimant` holds to `expiry` (the heartbeat); returns
  /// how many it still holds.
  @discardableResult
  func renewClaims(by claimant: Claimant, until expiry: Date) throws -> Int

  /// Ends `claimant`'s claim on a call without storing it (the body threw, or
  /// its result could not be stored), so a waiter runs the call itself.
  func releaseClaim(_ id: CallID, by claimant: Claimant) throws

  // MARK: Managing

  /// Deletes calls (and their inputs), atomically; their values stay until
  /// ``collectGarbage(keepingFilesNewerThan:)``. Returns how many were deleted.
  func forget(_ calls: [CallID]) throws -> Int

  /// Deletes the values no call uses (as input or output) and no tag names,
  /// and blob files that no value row names and that are older than the given
  /// date (a writer may be about to commit them), and the environments no
  /// call names that were last saved a day before that date (a process saves
  /// its own before its first call names it, and renews it while it runs),
  /// with the uncommitted changes no remaining environment names. A call recorded while this runs keeps
  /// every value it needs.
  func collectGarbage(keepingFilesNewerThan date: Date) throws -> GarbageReport

  /// Evicts values' bytes, atomically, keeping the records of the calls that
  /// returned them: those calls are marked evicted (``CallRecord/evictedAt``)
  /// and their next lookup is a miss, which stores the value again. A value
  /// that is no longer a candidate (``StoreReader/evictionCandidates()``:
  /// since listed, it became a call's input, a tag names it, or it is
  /// already gone) is left alone. Files of evicted values are deleted after
  /// the rows no longer name them, so a crash leaves at most files for
  /// ``collectGarbage(keepingFilesNewerThan:)``, never a row naming bytes
  /// that are gone. Returns the values evicted.
  func evict(_ values: [ContentID], at date: Date) throws -> [EvictedValue]

  /// Names a call or a value, replacing an earlier tag of the same name.
  func setTag(_ tag: StoreTag) throws

  /// Names a call or a value unless a tag of that name exists, in one step
  /// that another process cannot come between; returns what the existing
  /// tag names, or `nil` when this one was set. The default implementation
  /// reads, then sets: a backend shared by processes implements it itself.
  func addTag(_ tag: StoreTag) throws -> StoreTag.Target?

  /// Removes a tag; returns whether it existed.
  func removeTag(named name: String) throws -> Bool

  // MARK: Use and code versions

  /// Records an audit of a stored result (``AuditPolicy``).
  func recordAudit(_ audit: AuditRecord) throws

  /// Adds counts of use to the store's record: each count is added to the one
  /// stored for its op and ``OpUsage/period`` (the start of an hour), in one
  /// transaction.
  func addUsage(_ usage: [OpUsage]) throws

  /// Records that a process runs an op version, and returns the semantic
  /// version its calls are filed under.
  ///
  /// Called once per op version, store and process, when a call of the
  /// version first misses (hits are looked up under the version itself until
  /// then, and cost no query), and again after an accepted change
  /// (``StoreReader/acceptCount()``). Atomically:
  /// - when the store knows the version, it returns its semantic version, and
  ///   records that the registration's program (its location) ran it at
  ///   `date` unless it is already that program's last version (so that the
  ///   common case only reads);
  /// - otherwise it stores the version with its components, the semantic
  ///   version that ``VersionRegistration/semanticVersion(among:lastHere:components:componentsOf:)``
  ///   gives (the rule is there, not in the backend), and the program's
  ///   location, and returns that semantic version.
  func registerVersion(_ registration: VersionRegistration, at date: Date) throws -> CodeFingerprint

  /// Records that processes used op versions (their hits: a miss registers
  /// its version): each version's last-seen date becomes `date` unless it is
  /// later already, and each location's last version becomes this one unless
  /// the location's version was taken up by a process that started using it
  /// later (``VersionSighting/since``). Versions the store does not know are
  /// left out.
  func sawVersions(_ sightings: [VersionSighting], at date: Date) throws

  /// Makes `version` equivalent to `base`: every version in `version`'s class
  /// joins `base`'s class, and their calls are filed under `base`'s semantic
  /// version (``CallID/init(op:semanticVersion:trial:keyFields:isRandom:)``); a call
  /// that would collide with one already filed there is dropped, since the two
  /// are equivalent by the user's word. With `base == version`, the version
  /// leaves its class and takes back the calls it ran.
  ///
  /// - Throws: ``RecallError/notFound`` when the store has not seen either
  ///   version.
  func accept(_ op: OpID, version: CodeFingerprint, as base: CodeFingerprint) throws

  // MARK: Environments

  /// Stores an environment under its id (``CallEnvironment/id``), and the
  /// uncommitted changes it names under their digest
  /// (``CallEnvironment/changesDigest``), unless the store has them already:
  /// one record per distinct environment and per distinct set of changes,
  /// however many calls name them; an environment saved again has its saved
  /// date renewed (at most hourly: the common case only reads). Called before
  /// the first call that names it is recorded, and every ten minutes while a
  /// process records calls that name it.
  func saveEnvironment(_ environment: CallEnvironment, changes: String?) throws
}

extension StoreWriter {
  /// Stores the call before returning, then calls `completion`.
  public func record(
    _ call: CallRecord, values: [EncodedValue],
    completion: @escaping @Sendable ((any Error)?) -> Void
  ) {
    do {
      try record(call, values: values)
      completion(nil)
    } catch {
      completion(error)
    }
  }

  /// Returns at once: the backend stores calls before returning.
  public func flush() {}

  public func addTag(_ tag: StoreTag) throws -> StoreTag.Target? {
    if let existing = try tags().first(where: { $0.name == tag.name }) { return existing.target }
    try setTag(tag)
    return nil
  }
}

/// The protocol backends conform to, before reading and writing were split.
@available(*, deprecated, renamed: "StoreWriter")
public typealias StoreBackend = StoreWriter
