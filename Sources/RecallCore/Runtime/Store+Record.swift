import Foundation

extension Store {
  /// Stores a result with its inputs; a failure is a warning, never an error.
  /// The memory layer serves the result at once; once the backend has
  /// committed it, ``RecallEvent/didStore(_:bytes:)`` is emitted and the
  /// call's claim (if `claimed`) ends. A result the op's ``StoragePolicy``
  /// does not store is kept in memory (when the policy says memory only) or
  /// nowhere, and said in ``RecallEvent/didNotStore(_:_:)``.
  func record<R: Codable & Sendable>(
    _ call: PreparedCall, _ value: R, inputs: [CallInput], keyFields: [UInt8], startedAt: Date,
    duration: Double, cause: MissCause?, claimed: Bool
  ) {
    let output: EncodedValue
    let files: [TrackedFile]
    do {
      (output, files) = try FileCollection.collecting { try ValueCodec.encode(value) }
    } catch {
      warn(
        .unencodableResult, call.reference,
        "its result could not be encoded (\(error)); it was returned but not stored.")
      if claimed { endClaim(call, stored: false) }
      return
    }
    let size = output.totalSize
    // A `Lazy` result passed on as an argument is not hashed again (unless
    // it holds tracked files, whose content may change).
    if files.isEmpty { (value as? any LazyHandle)?.remember(output.cid) }
    let hid = historyID(call, inputs)
    let entry = MemoryLayer.Entry(
      value: value, cid: output.cid, hid: hid, size: size, duration: duration,
      storedAt: startedAt.timeIntervalSince1970 + duration, files: files,
      parts: output.valueParts)
    histories.record(result: output.cid, hid, parts: output.valueParts, in: call.caller?.id)
    if let reason = storagePolicy(for: call.op).reasonNotToStore(duration: duration, bytes: size) {
      forgetReplaced(call)
      if reason == .memoryOnly { memory.put(call.id, entry) }
      ledger.count(call.op, notStored: size)
      eventCenter.emit(.didNotStore(call.reference, reason))
      if claimed { endClaim(call, stored: false) }
      return
    }
    let record: CallRecord
    let values: [EncodedValue]
    do {
      (record, values) = try callRecord(
        call, output: output, inputs: inputs, hid: hid, keyFields: keyFields,
        startedAt: startedAt, duration: duration, cause: cause)
    } catch {
      // A `Lazy` input whose stored bytes could not be read, or whose value
      // no longer encodes as it did.
      warn(
        .storeFailure, call.reference,
        "an input could not be stored with it (\(error)); its result was returned but not stored.")
      forgetReplaced(call)
      memory.put(call.id, entry)
      if claimed { endClaim(call, stored: false) }
      return
    }
    memory.put(call.id, entry)
    // The completion holds what it needs, never the store: a store must not
    // be released (and flush) on the backend's writer thread. It may be
    // released before the commit (which its release waits for): then there
    // is no one to tell, but its claim still ends. The backend is held
    // strongly, so that it outlives the calls handed to it.
    let (backend, keeper, center, released, budget) = (
      backend, claimKeeper, eventCenter, released, diskBudget
    )
    let (id, reference) = (call.id, call.reference)
    let printing = configuration.printsWarnings
    backend.record(record, values: values) { error in
      let told = !released.isSet
      if told, let error {
        Store.warn(
          .storeFailure, reference, "its result could not be stored (\(error)); it was returned.",
          printing: printing, to: center)
      } else if told {
        center.emit(.didStore(reference, bytes: size))
      }
      if error == nil { budget.stored(size) }
      guard claimed else { return }
      Store.endClaim(id, stored: error == nil, backend: backend, keeper: keeper) { message in
        if told { Store.warn(.storeFailure, reference, message, printing: printing, to: center) }
      }
    }
  }

  /// Forgets the stored result a recomputed call was to replace, when its
  /// new result is not stored: not replaced, it must not be served either.
  private func forgetReplaced(_ call: PreparedCall) {
    guard call.recomputes else { return }
    memory.remove(call.id)
    do {
      _ = try backend.forget([call.id])
    } catch {
      warn(
        .storeFailure, call.reference,
        "could not forget its stored result, which its recomputed one replaces (\(error)).")
    }
  }

  /// The record of a call that returned `output`, and the values it names:
  /// its output and its inputs as hashed for the key (encoded once per call;
  /// a ``Lazy`` input's stored bytes copied, or its value encoded again),
  /// each followed by its parts (``MultipleOutputs``).
  func callRecord(
    _ call: PreparedCall, output: EncodedValue, inputs: [CallInput], hid: HistoryID,
    keyFields: [UInt8], startedAt: Date, duration: Double, cause: MissCause?
  ) throws -> (CallRecord, [EncodedValue]) {
    try (
      CallRecord(
        id: call.id, op: call.op.id, opVersion: call.op.version,
        semanticVersion: call.semanticVersion, trial: call.filedTrial, inputs: inputs,
        outputCID: output.cid, outputHID: hid, outputSize: output.totalSize,
        startedAt: startedAt, duration: duration, host: Host.name, pid: Host.pid,
        keyFields: keyFields, missCause: cause,
        environment: environmentID(recording: call.op)),
      ([output] + call.inputs.map { try $0.encoded() }).flatMap(\.withParts)
    )
  }

  /// What is kept of an op's results: its own policy over the store's.
  func storagePolicy(for op: Op) -> StoragePolicy {
    op.details.storage?.over(configuration.storage) ?? configuration.storage
  }
}
