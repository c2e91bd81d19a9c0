import Foundation

/// A call whose key has been computed, ready to be looked up or executed.
struct PreparedCall {
  let op: Op
  let semanticVersion: CodeFingerprint
  let id: CallID
  /// The arguments in the key (an added parameter at its default is not).
  let arguments: [Argument]
  let inputCIDs: [ContentID]
  let types: [any Any.Type]
  let result: any Any.Type
  /// Whether the call is filed under the op's settled semantic version in the
  /// store, rather than provisionally under its version (``ResolvedOp``).
  let isSettled: Bool
  /// The store's generation its standing was looked up in
  /// (``ResolvedOp/generation``).
  let generation: UInt64

  var event: CallEvent { CallEvent(op: op.id, call: id, trial: 0) }

  init(
    _ op: Op, _ resolved: ResolvedOp, _ arguments: [Argument], _ cids: [ContentID],
    _ types: [any Any.Type], _ result: any Any.Type
  ) {
    var key = resolved.keyPrefix
    Self.addKeyFields(to: &key, op, arguments, cids, types, result)
    self.op = op
    self.semanticVersion = resolved.semanticVersion
    self.id = CallID(key.finalize())
    self.arguments = arguments
    self.inputCIDs = cids
    self.types = types
    self.result = result
    self.isSettled = resolved.isSettled
    self.generation = resolved.generation
  }

  /// The key's fields after the op's, as stored with the call.
  var keyFields: [UInt8] {
    var recorder = FieldRecorder()
    Self.addKeyFields(to: &recorder, op, arguments, inputCIDs, types, result)
    return recorder.bytes
  }

  /// Writes the key's fields after the op's: each input's name, cid and (when
  /// keyed) type, then the types in the key.
  static func addKeyFields(
    to sink: inout some FieldSink, _ op: Op, _ arguments: [Argument], _ cids: [ContentID],
    _ types: [any Any.Type], _ result: any Any.Type
  ) {
    for (argument, cid) in zip(arguments, cids) {
      sink.add(argument.name)
      sink.add(cid.digest)
      if let type = argument.keyedType { sink.add(TypeName.stable(type)) }
    }
    for type in types { sink.add(TypeName.stable(type)) }
    if op.keysResultType { sink.add(TypeName.stable(result)) }
  }
}

extension Store {
  /// Runs `body` as a call of `op` with `arguments`, or returns the stored
  /// result of the same call.
  ///
  /// This is what `@Memoized` and `#memoized` expand into; call it directly
  /// to memoize code without the macros.
  ///
  /// - Parameters:
  ///   - op: The op and its current version.
  ///   - arguments: The inputs that make up the key, by parameter name.
  ///   - types: Types that are part of the key although no argument's value
  ///     shows them, such as a generic function's type parameters.
  ///   - body: The computation.
  /// - Returns: The stored result of the same call, or the result of `body`.
  /// - Throws: Only what `body` throws; problems with the store become warnings
  ///   and the body runs.
  public func memoize<R: Codable & Sendable, E: Error>(
    _ op: Op, _ arguments: [Argument], types: [any Any.Type] = [],
    _ body: () throws(E) -> R
  ) throws(E) -> R {
    guard Recall.isEnabled, var call = prepare(op, arguments, types, result: R.self),
      !CallStack.contains(call.id)
    else { return try body() }
    // Set when the store has the call but its result cannot be used (corrupt,
    // or of a changed type): it is recomputed, never looked up again.
    var unusable = false
    while true {
      if let value: R = reuse(call, unusable: &unusable) { return value }
      if settle(&call) {
        guard !CallStack.contains(call.id) else { return try body() }
        continue
      }
      switch flights.begin(call.id) {
      case .follower(let flight):
        flight.wait()
      case .leader(let flight):
        defer { flights.end(call.id, flight) }
        if let value: R = reuseFromMemory(call) { return value }
        var claim = ClaimWait(policy: configuration.claims)
        var step = nextClaimStep(call, &claim)
        while case .pause(let pause) = step {
          Thread.sleep(forTimeInterval: pause.inSeconds)
          step = nextClaimStep(call, &claim)
        }
        if step == .reuse, !unusable, let value: R = reuse(call, unusable: &unusable) {
          return value
        }
        let started = willExecute(call)
        let result = CallStack.$current.withValue(CallStack(id: call.id, parent: CallStack.current))
        {
          Result { () throws(E) -> R in try body() }
        }
        return try didExecute(call, started, result, claimed: step == .run(claimed: true))
      }
    }
  }

  /// Runs the asynchronous `body` as a call of `op` with `arguments`, or returns
  /// the stored result of the same call.
  ///
  /// See ``memoize(_:_:types:_:)-(_,_,_,()throws(E)->R)``.
  public func memoize<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)? = #isolation,
    _ op: Op, _ arguments: [Argument], types: [any Any.Type] = [],
    _ body: () async throws(E) -> R
  ) async throws(E) -> R {
    guard Recall.isEnabled, var call = prepare(op, arguments, types, result: R.self),
      !CallStack.contains(call.id)
    else { return try await body() }
    // Set when the store has the call but its result cannot be used (corrupt,
    // or of a changed type): it is recomputed, never looked up again.
    var unusable = false
    while true {
      if let value: R = reuse(call, unusable: &unusable) { return value }
      if settle(&call) {
        guard !CallStack.contains(call.id) else { return try await body() }
        continue
      }
      switch flights.begin(call.id) {
      case .follower(let flight):
        await flight.wait()
      case .leader(let flight):
        defer { flights.end(call.id, flight) }
        if let value: R = reuseFromMemory(call) { return value }
        var claim = ClaimWait(policy: configuration.claims)
        var step = nextClaimStep(call, &claim)
        while case .pause(let pause) = step {
          // A cancelled task stops waiting and runs the body, which sees the
          // cancellation.
          do { try await Task.sleep(for: pause) } catch { step = .run(claimed: false) }
          if case .pause = step { step = nextClaimStep(call, &claim) }
        }
        if step == .reuse, !unusable, let value: R = reuse(call, unusable: &unusable) {
          return value
        }
        let started = willExecute(call)
        let result = await CallStack.$current.withValue(
          CallStack(id: call.id, parent: CallStack.current),
          operation: { () async -> Result<R, E> in
            do throws(E) {
              return .success(try await body())
            } catch {
              return .failure(error)
            }
          }, isolation: isolation)
        return try didExecute(call, started, result, claimed: step == .run(claimed: true))
      }
    }
  }

  // MARK: - Lookup

  func prepare(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], result: any Any.Type
  ) -> PreparedCall? {
    let resolved = standing(of: op)
    var cids: [ContentID] = []
    cids.reserveCapacity(arguments.count)
    var omitted: [Int] = []
    for (index, argument) in arguments.enumerated() {
      do {
        let cid = try ValueCodec.contentID(of: argument.value)
        if let defaultValue = argument.defaultValue,
          (try? ValueCodec.contentID(of: defaultValue)) == cid
        {
          omitted.append(index)
        } else {
          cids.append(cid)
        }
      } catch {
        warn(
          .unhashableArgument, nil,
          "\(op.id.name): argument '\(argument.name)' could not be encoded (\(error)); "
            + "the call runs without memoization. Make the type's Codable conformance total, "
            + "or leave the parameter out with '@Memoized(ignoring:)'.")
        return nil
      }
    }
    let keyed =
      omitted.isEmpty
      ? arguments : arguments.indices.filter { !omitted.contains($0) }.map { arguments[$0] }
    return PreparedCall(op, resolved, keyed, cids, types, result)
  }

  /// Settles a call before it executes: looks up (and records) the op
  /// version in the store when the call is provisional or a change was
  /// accepted since, and files the call under its semantic version. Returns
  /// whether its id changed, so it must be looked up again.
  func settle(_ call: inout PreparedCall) -> Bool {
    // A settled call is looked up again only when a change was accepted
    // since its standing was (by this store, or by another process: every
    // thread that misses then looks again, not only the first to notice).
    if call.isSettled {
      _ = noticeAcceptedChanges()
      guard call.generation != generation.load(ordering: .acquiring) else { return false }
    }
    let resolved = resolve(call.op)
    let settled = PreparedCall(
      call.op, resolved, call.arguments, call.inputCIDs, call.types, call.result)
    defer { call = settled }
    return settled.id != call.id
  }

  func reuseFromMemory<R>(_ call: PreparedCall) -> R? {
    guard let entry = memory.get(call.id), let value = entry.value as? R else { return nil }
    histories.record(entry.cid, entry.hid)
    ledger.count(call.op, memoryHit: entry.duration)
    eventCenter.emit(.didReuse(call.event, source: .memory, saved: .seconds(entry.duration)))
    return value
  }

  /// Returns the call's stored result, from the memory layer or the backend;
  /// sets `unusable` when the backend has the call but its result cannot be
  /// returned (the call must run).
  func reuse<R: Decodable>(_ call: PreparedCall, unusable: inout Bool) -> R? {
    if let value: R = reuseFromMemory(call) { return value }
    let stored: StoredResult
    let decoded: Result<R, any Error>
    do {
      guard let found = try backend.loadResult(call.id) else { return nil }
      stored = found
      // A large blob's checksum may still be running. Numeric arrays and Data
      // decode alongside it (any bytes decode to some numbers, never a trap);
      // other types wait for it. Nothing is served until it passed.
      if (R.self as? any RawBuffer.Type)?.decodesAnyBytes != true { try stored.confirm() }
      decoded = Result { try stored.storage.decode(R.self) }
      try stored.confirm()
    } catch let error as RecallError where error.code == RecallError.corruptValue {
      warn(.corruptValue, call.event, error.message)
      unusable = true
      return nil
    } catch {
      warn(.storeFailure, call.event, "could not read the store (\(error)); recomputing.")
      unusable = true
      return nil
    }
    let value: R
    do {
      value = try decoded.get()
    } catch {
      warn(
        .undecodableResult, call.event,
        "its stored result no longer decodes as \(R.self) (\(error)); recomputing and replacing it."
      )
      unusable = true
      return nil
    }
    memory.put(
      call.id,
      .init(
        value: value, cid: stored.cid, hid: stored.hid, size: stored.size,
        duration: stored.duration))
    histories.record(stored.cid, stored.hid)
    ledger.count(call.op, storeHit: stored.duration)
    eventCenter.emit(.didReuse(call.event, source: .store, saved: .seconds(stored.duration)))
    return value
  }

  // MARK: - Claims

  /// Looks at the call's claim in a shared store once: claims it, finds it
  /// stored, or (while another process computes it) says how long to pause
  /// before looking again. Problems become warnings and the body runs.
  func nextClaimStep(_ call: PreparedCall, _ wait: inout ClaimWait) -> ClaimWait.Step {
    guard backend.isShared, configuration.claims.isEnabled,
      !quickOps.withLock({ $0.contains(call.op.identity) })
    else { return .run(claimed: false) }
    var outcome: ClaimOutcome
    do {
      outcome = try backend.claim(
        call.id, of: call.op.id, by: claimKeeper.claimant, at: Date(), until: claimKeeper.expiry,
        replacing: nil)
      // A holder on this host whose process is gone (killed, crashed) will not
      // finish: take its claim over now rather than when its lease runs out.
      if case .held(let claim) = outcome, claim.claimant.isDeadProcessOnThisHost {
        outcome = try backend.claim(
          call.id, of: call.op.id, by: claimKeeper.claimant, at: Date(), until: claimKeeper.expiry,
          replacing: claim.claimant)
      }
    } catch {
      warn(
        .storeFailure, call.event,
        "could not claim the call (\(error)); running it without a claim, so another process "
          + "may run it too.")
      return .run(claimed: false)
    }
    let wasWaiting = wait.isWaiting
    let step = wait.next(outcome)
    switch step {
    case .run(claimed: true):
      claimKeeper.keep(call.id)
    case .pause:
      if !wasWaiting, case .held(let claim) = outcome {
        eventCenter.emit(.willWait(call.event, holder: claim.claimant))
      }
    case .giveUp(let holder, let waited):
      warn(
        .waitedTooLong, call.event,
        "waited \(Int(waited.inSeconds.rounded())) s for \(holder), which is computing it "
          + "(ClaimPolicy.maximumWait); running it here too. Raise maximumWait for calls that take longer."
      )
      return .run(claimed: false)
    case .run(claimed: false), .reuse:
      break
    }
    return step
  }

  /// Ends this process's claim on a call it ran: the heartbeat stops, and a
  /// claim whose result was not stored is released so a waiter runs the call.
  func endClaim(_ call: PreparedCall, stored: Bool) {
    Store.endClaim(call.id, stored: stored, backend: backend, keeper: claimKeeper) {
      warn(.storeFailure, call.event, $0)
    }
  }

  /// Stops renewing a claim, and releases it when its call was not stored
  /// (`warn` says why a release failed).
  static func endClaim(
    _ id: CallID, stored: Bool, backend: any StoreBackend, keeper: ClaimKeeper,
    warn: (String) -> Void
  ) {
    if !stored {
      do {
        try backend.releaseClaim(id, by: keeper.claimant)
      } catch {
        warn(
          "could not release its claim (\(error)); processes waiting for it take it over when "
            + "its lease runs out.")
      }
    }
    keeper.drop(id)
  }

  // MARK: - Execute and record

  /// A call whose body is running: when it started, and its inputs with
  /// their histories, taken in the caller's scope before the body runs.
  struct Execution {
    let startedAt: Date
    let clock: ContinuousClock.Instant
    let inputs: [CallInput]
  }

  /// Starts executing a call: its inputs' histories are taken in the
  /// caller's scope, and the body's own scope opens, seeded with them.
  func willExecute(_ call: PreparedCall) -> Execution {
    eventCenter.emit(.willExecute(call.event))
    let inputs = zip(call.arguments, call.inputCIDs).map { argument, cid in
      CallInput(name: argument.name, cid: cid, hid: histories.hid(for: cid))
    }
    histories.open(call.id, inputs: inputs)
    return Execution(startedAt: Date(), clock: ContinuousClock.now, inputs: inputs)
  }

  func didExecute<R: Codable & Sendable, E: Error>(
    _ call: PreparedCall, _ started: Execution, _ result: Result<R, E>, claimed: Bool
  ) throws(E) -> R {
    histories.close(call.id)
    let elapsed = ContinuousClock.now - started.clock
    let seconds = elapsed.inSeconds
    ledger.count(call.op, miss: seconds)
    switch result {
    case .failure(let error):
      eventCenter.emit(.didFail(call.event, error: String(describing: error)))
      if claimed { endClaim(call, stored: false) }
      throw error
    case .success(let value):
      eventCenter.emit(.didExecute(call.event, duration: elapsed))
      noteDuration(of: call.op, seconds)
      // A change accepted while the body ran may have moved the version to
      // another class: the result is filed where its code now belongs.
      var filed = call
      if settle(&filed), claimed {
        endClaim(call, stored: false)
        record(
          filed, value, inputs: started.inputs, startedAt: started.startedAt, duration: seconds,
          claimed: false)
      } else {
        record(
          filed, value, inputs: started.inputs, startedAt: started.startedAt, duration: seconds,
          claimed: claimed)
      }
      return value
    }
  }

  /// Stores a result with its inputs; a failure is a warning, never an error.
  /// The memory layer serves the result at once; once the backend has
  /// committed it, ``RecallEvent/didStore(_:bytes:)`` is emitted and the
  /// call's claim (if `claimed`) ends.
  func record<R: Codable & Sendable>(
    _ call: PreparedCall, _ value: R, inputs: [CallInput], startedAt: Date, duration: Double,
    claimed: Bool
  ) {
    let output: EncodedValue
    do {
      output = try ValueCodec.encode(value)
    } catch {
      warn(
        .unencodableResult, call.event,
        "its result could not be encoded (\(error)); it was returned but not stored.")
      if claimed { endClaim(call, stored: false) }
      return
    }
    var values = [output]
    for (argument, cid) in zip(call.arguments, call.inputCIDs) {
      if let encoded = try? ValueCodec.encode(argument.value), encoded.cid == cid {
        values.append(encoded)
      }
    }
    let hid = historyID(call, inputs)
    let record = CallRecord(
      id: call.id, op: call.op.id, opVersion: call.op.version,
      semanticVersion: call.semanticVersion, trial: 0, inputs: inputs,
      outputCID: output.cid, outputHID: hid, outputSize: output.bytes.count,
      startedAt: startedAt, duration: duration, host: Host.name, pid: Host.pid,
      keyFields: call.keyFields)
    memory.put(
      call.id,
      .init(value: value, cid: output.cid, hid: hid, size: output.bytes.count, duration: duration))
    histories.record(output.cid, hid)
    let size = output.bytes.count
    // The completion holds what it needs, never the store: a store must not
    // be released (and flush) on the backend's writer thread. It may be
    // released before the commit (which its release waits for): then there
    // is no one to tell, but its claim still ends. The backend is held
    // strongly, so that it outlives the calls handed to it.
    let (backend, keeper, center, released) = (backend, claimKeeper, eventCenter, released)
    let printing = configuration.printsWarnings
    backend.record(record, values: values) { error in
      let told = !released.isSet
      if told, let error {
        Store.warn(
          .storeFailure, call.event, "its result could not be stored (\(error)); it was returned.",
          printing: printing, to: center)
      } else if told {
        center.emit(.didStore(call.event, bytes: size))
      }
      guard claimed else { return }
      Store.endClaim(call.id, stored: error == nil, backend: backend, keeper: keeper) { message in
        if told { Store.warn(.storeFailure, call.event, message, printing: printing, to: center) }
      }
    }
  }

  /// Remembers whether an op's calls are quick (``ClaimPolicy/quickCall``):
  /// its next misses skip claims while they are.
  func noteDuration(of op: Op, _ seconds: Double) {
    let isQuick = seconds < configuration.claims.quickCall.inSeconds
    quickOps.withLock { quick in
      if isQuick { quick.insert(op.identity) } else { quick.remove(op.identity) }
    }
  }

  func historyID(_ call: PreparedCall, _ inputs: [CallInput]) -> HistoryID {
    var builder = DigestBuilder(domain: "recall.hid.v1")
    // The name with labels only, as before op names had types: the same
    // computation keeps its history id (overloads differ by version).
    builder.add(call.op.details.keyName.name)
    builder.add(call.semanticVersion.hex)
    for input in inputs {
      builder.add(input.name)
      builder.add(input.hid.digest)
    }
    builder.add(0)  // output index
    return HistoryID(builder.finalize())
  }
}

/// The host and process that run calls.
enum Host {
  static let name: String = {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }()
  static let pid = Int(getpid())
}
