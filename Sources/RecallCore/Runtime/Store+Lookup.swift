import Foundation

extension Store {
  /// Confirms a call's resolution before it executes: resolves the op
  /// version in the store when the call's resolution is assumed or a change
  /// was accepted since, and files the call under its semantic version.
  /// Returns whether its id changed, so it must be looked up again.
  func confirm(_ call: inout PreparedCall) -> Bool {
    // A confirmed call is resolved again only when a change was accepted
    // since (by this store, or by another process: every thread that misses
    // then looks again, not only the first to notice).
    if call.isConfirmed {
      _ = noticeAcceptedChanges()
      guard call.generation != generation.load(ordering: .acquiring) else { return false }
    }
    let filed = call.filed(under: resolve(call.op))
    defer { call = filed }
    return filed.id != call.id
  }

  /// Returns the call's result from the memory layer, if it is there and has
  /// not expired.
  func reuseFromMemory<R>(_ call: PreparedCall) -> R? {
    reusedFromMemory(call, as: R.self).map { Self.unboxed($0, as: R.self) }
  }

  /// ``reuseFromMemory(_:)`` without generics: the result, an instance of
  /// `type`, as `Any`. A call's lookup asks the runtime for no generic type
  /// (each cost a cached sweep about 350 instructions, decision 0116).
  func reusedFromMemory(_ call: PreparedCall, as type: any Any.Type) -> Any? {
    guard let entry = memory.get(call.id),
      entry.valueType == ObjectIdentifier(type) || Self.isInstance(entry.value, of: type),
      serve(
        entry, call.id, call.op, isRandom: call.isRandom, trial: call.trial, caller: call.caller)
    else { return nil }
    return entry.value
  }

  /// Whether `value` is an instance of `type` (a subclass's instance, say).
  static func isInstance(_ value: Any, of type: any Any.Type) -> Bool {
    func check<T>(_: T.Type) -> Bool { value is T }
    return _openExistential(type, do: check)
  }

  /// Serves the memory layer's `entry` as the result of the call `id` of
  /// `op` (keyed as a random call of `trial`, or as one every trial shares,
  /// made inside `caller`), or returns `false` when it may not be: it has
  /// expired, or a file it holds changed.
  func serve(
    _ entry: MemoryLayer.Entry, _ id: CallID, _ op: Op, isRandom: Bool, trial: Int,
    caller: CallStack?
  ) -> Bool {
    if hasExpired(op, storedAt: entry.storedAt) { return false }
    // A file the result holds changed: the store's lookup says so, and the
    // call runs.
    if !entry.files.isEmpty, FileCollection.firstChanged(entry.files) != nil {
      memory.remove(id)
      return false
    }
    noteReuse(op, isRandom: isRandom, caller: caller)
    if let caller {
      histories.record(result: entry.cid, entry.hid, parts: entry.parts, in: caller.id)
    } else {
      histories.recordAtTopLevel(entry)
    }
    ledger.count(op, memoryHit: entry.duration)
    let reference = CallReference(op: op.id, call: id, trial: isRandom ? trial : 0)
    eventCenter.emit(.didReuse(reference, source: .memory, saved: .seconds(entry.duration)))
    return true
  }

  /// Notes what a reused call was: a random call's result makes the call
  /// that uses it random too.
  private func noteReuse(_ op: Op, isRandom: Bool, caller: CallStack?) {
    if isRandom {
      op.details.note(random: true)
      caller?.random.markRandom()
    } else if op.details.knownRandomness == .unknown {
      op.details.note(random: false)
    }
  }

  /// Returns the call's stored result, from the memory layer (unless
  /// `checkingMemory` is off: the caller just looked there) or the backend;
  /// sets `unusable` when the backend has the call but its result cannot be
  /// returned (the call must run): it has expired, or cannot be read.
  func reuse<R: Decodable>(
    _ call: PreparedCall, unusable: inout MissCause?, checkingMemory: Bool = true
  ) -> R? {
    reused(call, as: R.self, unusable: &unusable, checkingMemory: checkingMemory).map {
      Self.unboxed($0, as: R.self)
    }
  }

  /// ``reuse(_:unusable:checkingMemory:)`` without generics: the result, an
  /// instance of `type`, as `Any` (``reusedFromMemory(_:as:)``).
  func reused(
    _ call: PreparedCall, as type: any Decodable.Type, unusable: inout MissCause?,
    checkingMemory: Bool = true
  ) -> Any? {
    if checkingMemory, let value = reusedFromMemory(call, as: type) { return value }
    let stored: StoredResult
    let decoded: Result<(Any, [TrackedFile]), any Error>
    let traits = call.op.details.resultTraits(type)
    let lazy = traits.contains(.lazy) ? type as? any LazyHandle.Type : nil
    var parts: [ValuePart] = []
    var partBytes = 0
    do {
      // A lazy value that cannot hold tracked files (a numeric array, a
      // string) leaves its blob file unopened: it is opened, and checked,
      // when it is read.
      guard let found = try backend.loadResult(call.id, deferringBlob: lazy?.holdsNoFiles == true)
      else {
        return nil
      }
      if hasExpired(call.op, storedAt: found.storedAt) {
        unusable = .expired
        return nil
      }
      stored = found
      // A large blob's checksum may still be running. Numeric arrays and Data
      // decode alongside it (any bytes decode to some numbers, never a trap);
      // other types wait for it. Nothing is served until it passed.
      if lazy != nil || !traits.contains(.decodesAnyBytes) {
        try stored.confirm()
      }
      if let lazy, lazy.holdsNoFiles || !stored.storage.mayHoldTrackedFiles {
        // Checked, not decoded: read when its value is. (One that may hold
        // tracked files is decoded now, so that a changed file is noticed.)
        let (memory, backend, center, reference) = (memory, backend, eventCenter, call.reference)
        let printing = configuration.printsWarnings
        let value = lazy.deferred(stored) { error in
          // Not served: said as a hit's failure is, and computed again by
          // the next call (a damaged value is quarantined, its bytes marked
          // lost; an undecodable result is forgotten, as no hit decodes it).
          memory.remove(reference.call)
          let kind: RecallWarning.Kind
          switch error.code {
          case RecallError.corruptValue: kind = .corruptValue
          case RecallError.valueFromNewerVersion: kind = .valueFromNewerVersion
          case RecallError.undecodableValue:
            kind = .undecodableResult
            _ = try? backend.forget([reference.call])
          default: kind = .storeFailure
          }
          Store.warn(kind, reference, error.message, printing: printing, to: center)
        }
        decoded = .success((value, []))
      } else if traits.contains(.storedByParts), stored.storage.isManifest {
        // Its outputs are values of their own: read (and checked) each. One
        // that is gone is a miss; a damaged one is said as a damaged hit.
        let manifest = stored.storage.array
        guard let read = try readParts(of: manifest) else {
          warn(
            .storeFailure, call.reference,
            "an output or element of its stored result is gone; recomputing.")
          unusable = .unreadable
          return nil
        }
        parts = read.parts
        partBytes = read.bytes.values.reduce(0) { $0 + $1.count }
        decoded = Result {
          try FileCollection.collecting {
            try ValueParts.decode(type, parts: read.parts) { read.bytes[$0] } as Any
          }
        }
      } else if traits.contains(.holdsNoFiles) {
        decoded = Result { (try stored.storage.decode(type) as Any, []) }
      } else {
        decoded = Result {
          try FileCollection.collecting { try stored.storage.decode(type) as Any }
        }
      }
      try stored.confirm()
    } catch let error as RecallError where error.code == RecallError.corruptValue {
      warn(.corruptValue, call.reference, error.message)
      unusable = .corrupt
      return nil
    } catch let error as RecallError where error.code == RecallError.valueFromNewerVersion {
      // The backend let the value go: the call's record stores it again.
      if opsWithNewerValues.withLock({ $0.insert(call.reference.op.name).inserted }) {
        warn(
          .valueFromNewerVersion, call.reference,
          error.message + " (Said once per op: others of its results may be recomputed too.)")
      }
      unusable = .unreadable
      return nil
    } catch {
      warn(.storeFailure, call.reference, "could not read the store (\(error)); recomputing.")
      unusable = .unreadable
      return nil
    }
    let (value, files): (Any, [TrackedFile])
    do {
      (value, files) = try decoded.get()
    } catch {
      warn(
        .undecodableResult, call.reference,
        "its stored result no longer decodes as \(type) (\(error)); recomputing and replacing it."
      )
      unusable = .undecodable
      return nil
    }
    if !files.isEmpty, FileCollection.firstChanged(files) != nil {
      unusable = .fileChanged
      return nil
    }
    memory.put(
      call.id,
      .init(
        value: value, cid: stored.cid, hid: stored.hid, size: stored.size + partBytes,
        duration: stored.duration, storedAt: stored.storedAt ?? Date().timeIntervalSince1970,
        files: files, parts: parts))
    noteReuse(call.op, isRandom: call.isRandom, caller: call.caller)
    histories.record(result: stored.cid, stored.hid, parts: parts, in: call.caller?.id)
    ledger.count(call.op, storeHit: stored.duration)
    eventCenter.emit(.didReuse(call.reference, source: .store, saved: .seconds(stored.duration)))
    return value
  }

  /// The parts a manifest names, read (and checked) from the backend, or
  /// `nil` when one is not stored. A part of a result this process stored
  /// may still be on its way to the backend: it is looked for again once
  /// the backend has stored what it was given.
  func readParts(of manifest: [UInt8]) throws -> (
    parts: [ValuePart], bytes: [ContentID: [UInt8]]
  )? {
    let parts = try ValueParts.manifest(manifest)
    let cids = Array(Set(parts.map(\.cid)))
    var bytes = try backend.values(cids)
    if bytes.count < cids.count {
      backend.flush()
      bytes = try backend.values(cids)
      guard bytes.count == cids.count else { return nil }
    }
    return (parts, bytes)
  }

  /// Decodes a stored result; one stored by parts with its parts.
  func decodeStored<R: Decodable>(_ type: R.Type, _ storage: StoredBytes) throws -> R {
    guard storage.isManifest else { return try storage.decode(R.self) }
    let manifest = storage.array
    guard let read = try readParts(of: manifest) else {
      throw FormatError.malformed("an output or element of the stored result is gone")
    }
    return try ValueParts.decode(R.self, parts: read.parts) { read.bytes[$0] }
  }

  /// Whether a result of `op` stored at `storedAt` (seconds since 1970) may
  /// no longer be served (``StoragePolicy/expiresAfter``, the op's, else the
  /// store's). A result whose time is unknown does not expire. Reads the
  /// clock only for ops whose results expire.
  func hasExpired(_ op: Op, storedAt: Double?) -> Bool {
    guard let expiry = op.details.expirySeconds ?? expirySeconds, let storedAt else {
      return false
    }
    return Date().timeIntervalSince1970 - storedAt > expiry
  }
}
