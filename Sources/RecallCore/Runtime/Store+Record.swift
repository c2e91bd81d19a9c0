import Foundation

extension Store {
  /// Stores a result with its inputs; a failure is a warning, never an error.
  /// The memory layer serves the result at once; once the backend has
  /// committed it, ``RecallEvent/didStore(_:bytes:)`` is emitted and the
  /// call's claim (if `claimed`) ends.
  func record<R: Codable & Sendable>(
    _ call: PreparedCall, _ value: R, inputs: [CallInput], keyFields: [UInt8], startedAt: Date,
    duration: Double, claimed: Bool
  ) {
    let output: EncodedValue
    do {
      output = try ValueCodec.encode(value)
    } catch {
      warn(
        .unencodableResult, call.reference,
        "its result could not be encoded (\(error)); it was returned but not stored.")
      if claimed { endClaim(call, stored: false) }
      return
    }
    // The inputs as hashed for the key: encoded once per call.
    let values = [output] + call.inputs.map(\.encoded)
    let hid = historyID(call, inputs)
    let record = CallRecord(
      id: call.id, op: call.op.id, opVersion: call.op.version,
      semanticVersion: call.semanticVersion, trial: call.filedTrial, inputs: inputs,
      outputCID: output.cid, outputHID: hid, outputSize: output.bytes.count,
      startedAt: startedAt, duration: duration, host: Host.name, pid: Host.pid,
      keyFields: keyFields)
    memory.put(
      call.id,
      .init(value: value, cid: output.cid, hid: hid, size: output.bytes.count, duration: duration))
    histories.record(output.cid, hid, in: call.caller?.id)
    let size = output.bytes.count
    // The completion holds what it needs, never the store: a store must not
    // be released (and flush) on the backend's writer thread. It may be
    // released before the commit (which its release waits for): then there
    // is no one to tell, but its claim still ends. The backend is held
    // strongly, so that it outlives the calls handed to it.
    let (backend, keeper, center, released) = (backend, claimKeeper, eventCenter, released)
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
      guard claimed else { return }
      Store.endClaim(id, stored: error == nil, backend: backend, keeper: keeper) { message in
        if told { Store.warn(.storeFailure, reference, message, printing: printing, to: center) }
      }
    }
  }
}
