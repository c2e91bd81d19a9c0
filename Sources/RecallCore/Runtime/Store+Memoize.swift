import Foundation

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
    let scope = TaskScope.current
    let warmKey = warmKey(op, arguments, types, R.self, scope)
    if warmKey.exists, let value = warmHit(op, warmKey, arguments, scope, R.self) {
      return Self.unboxed(value, as: R.self)
    }
    return try lookUpOrRun(op, arguments, types, scope, warmKey, body)
  }

  /// A call that is not a warm hit: looked up by its digest, then run if
  /// it is not stored. (Apart from ``memoize(_:_:types:_:)``, so that a warm
  /// hit does not pay for this function's generic locals.)
  @inline(never)
  private func lookUpOrRun<R: Codable & Sendable, E: Error>(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], _ scope: TaskScope,
    _ warmKey: WarmKey, _ body: () throws(E) -> R
  ) throws(E) -> R {
    guard
      let call = prepareMemoized(
        op, arguments, types, result: R.self, in: scope, plain: warmKey.exists)
    else {
      return try body()
    }
    // Set when the store has the call but its result cannot be used (corrupt,
    // of a changed type, expired, or to be recomputed): it is recomputed,
    // never looked up again. A hit needs no plan.
    var unusable: MissCause? = call.recomputes ? .recomputing : nil
    // Looked up without generics: a generic type (an optional result, a
    // `Result`) costs the runtime a lookup each time it is made.
    if unusable == nil, let found = reusedFromMemory(call, as: R.self) {
      let value = Self.unboxed(found, as: R.self)
      // A hit from the memory layer makes the next one warm (a sweep's store
      // hits, each made once, do not fill the table).
      remember(warmKey, call, arguments, value)
      return audited(call, value, body)
    }
    if unusable == nil,
      let found = reused(call, as: R.self, unusable: &unusable, checkingMemory: false)
    {
      return audited(call, Self.unboxed(found, as: R.self), body)
    }
    return try run(call, unusable, body)
  }

  /// A call that missed: looked up again, waited for, or run, as its plan
  /// says (``CallPlan``).
  @inline(never)
  private func run<R: Codable & Sendable, E: Error>(
    _ call: PreparedCall, _ unusable: MissCause?, _ body: () throws(E) -> R
  ) throws(E) -> R {
    var unusable = unusable
    var plan = CallPlan(call)
    defer { plan.end(in: self) }
    while true {
      switch plan.next(in: self, unusable: unusable != nil) {
      case .lookUp:
        // Not audited: found after a miss, it was most likely just computed.
        if !plan.call.recomputes, let value: R = reuse(plan.call, unusable: &unusable) {
          return value
        }
      case .lookUpMemory:
        if !plan.call.recomputes, let value: R = reuseFromMemory(plan.call) { return value }
      case .follow(let flight):
        flight.wait()
      case .pause(let pause):
        Thread.sleep(forTimeInterval: pause.inSeconds)
      case .runUnmemoized:
        try refuseInReuseOnlyScope(plan.call, claimed: false, as: E.self)
        return try body()
      case .execute(let claimed):
        try refuseInReuseOnlyScope(plan.call, claimed: claimed, as: E.self)
        let started = willExecute(
          plan.call, because: unusable ?? (plan.gaveUpWaiting ? .claimTimedOut : .notStored))
        let result = started.scope.run(body)
        return try didExecute(plan.call, started, result, claimed: claimed)
      }
    }
  }

  /// Runs the asynchronous `body` as a call of `op` with `arguments`, or returns
  /// the stored result of the same call.
  ///
  /// See ``memoize(_:_:types:_:)``.
  public func memoize<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)? = #isolation,
    _ op: Op, _ arguments: [Argument], types: [any Any.Type] = [],
    _ body: () async throws(E) -> R
  ) async throws(E) -> R {
    let scope = TaskScope.current
    let warmKey = warmKey(op, arguments, types, R.self, scope)
    if warmKey.exists, let value = warmHit(op, warmKey, arguments, scope, R.self) {
      return Self.unboxed(value, as: R.self)
    }
    return try await lookUpOrRun(isolation: isolation, op, arguments, types, scope, warmKey, body)
  }

  /// The asynchronous ``lookUpOrRun(_:_:_:_:_:_:)``.
  @inline(never)
  private func lookUpOrRun<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)?, _ op: Op, _ arguments: [Argument],
    _ types: [any Any.Type], _ scope: TaskScope, _ warmKey: WarmKey,
    _ body: () async throws(E) -> R
  ) async throws(E) -> R {
    guard
      let call = prepareMemoized(
        op, arguments, types, result: R.self, in: scope, plain: warmKey.exists)
    else {
      return try await body()
    }
    // Set when the store has the call but its result cannot be used (corrupt,
    // of a changed type, expired, or to be recomputed): it is recomputed,
    // never looked up again. A hit needs no plan.
    var unusable: MissCause? = call.recomputes ? .recomputing : nil
    // Looked up without generics, as in the synchronous `lookUpOrRun`.
    if unusable == nil, let found = reusedFromMemory(call, as: R.self) {
      let value = Self.unboxed(found, as: R.self)
      remember(warmKey, call, arguments, value)
      return await audited(isolation: isolation, call, value, body)
    }
    if unusable == nil,
      let found = reused(call, as: R.self, unusable: &unusable, checkingMemory: false)
    {
      return await audited(isolation: isolation, call, Self.unboxed(found, as: R.self), body)
    }
    return try await run(isolation: isolation, call, unusable, body)
  }

  /// The asynchronous ``run(_:_:_:)``.
  @inline(never)
  private func run<R: Codable & Sendable, E: Error>(
    isolation: isolated (any Actor)?, _ call: PreparedCall, _ unusable: MissCause?,
    _ body: () async throws(E) -> R
  ) async throws(E) -> R {
    var unusable = unusable
    var plan = CallPlan(call)
    defer { plan.end(in: self) }
    while true {
      switch plan.next(in: self, unusable: unusable != nil) {
      case .lookUp:
        // Not audited: found after a miss, it was most likely just computed.
        if !plan.call.recomputes, let value: R = reuse(plan.call, unusable: &unusable) {
          return value
        }
      case .lookUpMemory:
        if !plan.call.recomputes, let value: R = reuseFromMemory(plan.call) { return value }
      case .follow(let flight):
        await flight.wait()
      case .pause(let pause):
        // A cancelled task stops waiting and runs the body, which sees the
        // cancellation.
        do { try await Task.sleep(for: pause) } catch { plan.stopWaiting() }
      case .runUnmemoized:
        try refuseInReuseOnlyScope(plan.call, claimed: false, as: E.self)
        return try await body()
      case .execute(let claimed):
        try refuseInReuseOnlyScope(plan.call, claimed: claimed, as: E.self)
        let started = willExecute(
          plan.call, because: unusable ?? (plan.gaveUpWaiting ? .claimTimedOut : .notStored))
        let result = await started.scope.run(isolation: isolation, body)
        return try didExecute(plan.call, started, result, claimed: claimed)
      }
    }
  }
}

/// What a memoized call that missed does next, decided without its result
/// type, so that the synchronous and asynchronous drivers share every
/// decision: each driver only performs the step (``Step``) and asks again. A
/// driver that asks again after a lookup found nothing; after a pause or a
/// flight, the time passed. (A hit, the common case, needs no plan: the
/// drivers look the call up once before making one.)
struct CallPlan {
  enum Step {
    /// Look the call up in the memory layer, then the store; return its
    /// result if found.
    case lookUp
    /// Look the call up in the memory layer only (a flight just began: a
    /// leader that finished meanwhile left its result there).
    case lookUpMemory
    /// Another task or thread of this process computes the call: wait for
    /// it to finish.
    case follow(SingleFlight.Flight)
    /// Another process computes the call: wait this long, then ask again.
    case pause(Duration)
    /// Run the body without memoization: the call, filed under its
    /// confirmed resolution, turned out to call itself.
    case runUnmemoized
    /// Run the body and record its result; `claimed` when this process holds
    /// the call's claim in a shared store.
    case execute(claimed: Bool)
  }

  private enum Phase {
    case start
    /// Looked up; nothing usable found.
    case lookedUp
    /// Leads the flight; looked in the memory layer.
    case leading
    /// Waiting for another process's claim.
    case waiting
    /// The claim found the call stored: looked up once more.
    case reused
    /// Claimed after waiting for another process, which may have filed the
    /// call under its other key: looked up there once more.
    case rechecked
    case done
  }

  private(set) var call: PreparedCall
  private var phase: Phase
  /// Whether the call was looked up under its other key too (random or
  /// shared) since it last asked (``Step/lookUp``) from the start.
  private var triedOtherKey = false
  private var flight: (id: CallID, flight: SingleFlight.Flight)?
  /// The wait for another process's claim; made when the call leads its
  /// flight (a hit never needs it).
  private var claim: ClaimWait?
  /// The call whose claim this process holds while it looks the call up
  /// under its other key (``Phase/rechecked``); released if found there.
  private var holding: PreparedCall?
  /// Whether it stopped waiting for another process's claim, which ran past
  /// ``ClaimPolicy/maximumWait`` (``MissCause/claimTimedOut``).
  private(set) var gaveUpWaiting = false

  /// A plan for a call whose first lookup found nothing.
  init(_ call: PreparedCall) {
    self.call = call
    phase = .lookedUp
  }

  mutating func next(in store: Store, unusable: Bool) -> Step {
    switch phase {
    case .start:
      // After another run of the call: what that run was decides which key
      // is looked up first.
      call = call.keyed(random: call.op.details.knownRandomness == .random)
      triedOtherKey = false
      phase = .lookedUp
      return .lookUp
    case .lookedUp:
      // A miss confirms the call's resolution first: filed elsewhere, it is
      // looked up there.
      if store.confirm(&call) {
        guard !call.callsItself else { return .runUnmemoized }
        return .lookUp
      }
      // Then the call's other key: a random call of its trial, or one every
      // trial shares. Not in trial 0 for a version whose calls this process
      // has only seen shared (the common miss: one lookup). A random call
      // stored there meanwhile, by a call whose randomness depends on its
      // arguments or by another process, is computed again, and comes out
      // the same.
      let randomness = call.op.details.knownRandomness
      if !triedOtherKey, call.isRandom || randomness != .shared || call.trial != 0 {
        triedOtherKey = true
        call = call.keyed(random: !call.isRandom)
        guard !call.callsItself else { return .runUnmemoized }
        return .lookUp
      }
      // Run under the key the call is most likely filed under; until a
      // call of its version has run, the shared one, so that trials that
      // need the same shared call wait for one run of it.
      call = call.keyed(random: randomness == .random)
      switch store.flights.begin(call.id) {
      case .follower(let flight):
        phase = .start
        return .follow(flight)
      case .leader(let flight):
        self.flight = (call.id, flight)
        phase = .leading
        return .lookUpMemory
      }
    case .leading:
      // Claimed under the key of its trial while its version's randomness
      // is unknown, so that processes running other trials of it do not
      // wait for each other (the flight above is the shared key's, so that
      // this process's trials share one run of a call that turns out
      // shared); a shared result releases the claim.
      if claim == nil, !call.isRandom, call.trial != 0,
        call.op.details.knownRandomness == .unknown
      {
        call = call.keyed(random: true)
      }
      return claimStep(in: store, unusable: unusable)
    case .waiting:
      return claimStep(in: store, unusable: unusable)
    case .reused:
      phase = .done
      return .execute(claimed: false)
    case .rechecked:
      // Not under the other key either: run it, under the claim.
      call = holding!
      holding = nil
      phase = .done
      return .execute(claimed: true)
    case .done:
      preconditionFailure("a memoized call asked for a step after it ran")
    }
  }

  /// Asks the store's claims what to do: run (claimed or not), reuse, or pause.
  private mutating func claimStep(in store: Store, unusable: Bool) -> Step {
    var wait = claim ?? ClaimWait(policy: store.configuration.claims)
    defer { claim = wait }
    switch store.nextClaimStep(call, &wait) {
    case .pause(let pause):
      phase = .waiting
      return .pause(pause)
    case .reuse where !unusable:
      phase = .reused
      return .lookUp
    case .run(true) where phase == .waiting:
      // The process it waited for let the claim go: it may have filed the
      // call under the other key (it turned out random, or shared).
      holding = call
      call = call.keyed(random: !call.isRandom)
      phase = .rechecked
      return .lookUp
    case .run(let claimed):
      phase = .done
      return .execute(claimed: claimed)
    case .giveUp:
      gaveUpWaiting = true
      phase = .done
      return .execute(claimed: false)
    case .reuse:
      phase = .done
      return .execute(claimed: false)
    }
  }

  /// Stops waiting for a claim (the task was cancelled): the body runs next.
  mutating func stopWaiting() {
    if case .waiting = phase { phase = .reused }
  }

  /// Ends the call's flight, if it leads one, and lets go of a claim it
  /// holds but did not run under (found under its other key).
  mutating func end(in store: Store) {
    if let holding { store.endClaim(holding, stored: false) }
    if let flight { store.flights.end(flight.id, flight.flight) }
  }
}

extension Store {
  /// Throws ``RecallError/notStored(_:)`` as `E` when the call is to run in a
  /// reuse-only scope (``Memoization/reusingOnly(_:)-(()->R)``), or stops
  /// the program with its message when `E` cannot be it. A claim the call
  /// took is released first, so other processes do not wait for it.
  func refuseInReuseOnlyScope<E: Error>(_ call: PreparedCall, claimed: Bool, as: E.Type) throws(E) {
    guard TaskScope.current.reusesOnly else { return }
    if claimed { endClaim(call, stored: false) }
    let error = RecallError.notStored(call.reference)
    eventCenter.emit(.didFail(call.reference, error: error.message))
    guard let thrown = error as? E else {
      preconditionFailure(
        "\(error.message). This function cannot throw it (it "
          + (E.self == Never.self ? "does not throw" : "throws \(E.self)") + ").")
    }
    throw thrown
  }

  /// Prepares a memoized call, or returns `nil` when its body must run
  /// without memoization: memoization is off, an argument cannot be encoded,
  /// or the call calls itself.
  func prepareMemoized(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], result: any Any.Type,
    in scope: TaskScope, plain: Bool
  ) -> PreparedCall? {
    guard !scope.isMemoizationDisabled,
      let call = prepare(op, arguments, types, result: result, in: scope, plain: plain),
      !call.callsItself
    else { return nil }
    return call
  }
}

extension Store {
  /// The call's warm key (``WarmKey``), or ``WarmKey/none`` when the call
  /// takes no warm shortcut: an argument is not a plain value, memoization is
  /// off or recomputes here, or hits are audited (an audit needs the call's
  /// key).
  func warmKey(
    _ op: Op, _ arguments: [Argument], _ types: [any Any.Type], _ result: any Any.Type,
    _ scope: TaskScope
  ) -> WarmKey {
    guard !scope.isMemoizationDisabled, !scope.recomputes, configuration.audit.fraction == 0
    else { return .none }
    return WarmKey(op, arguments, types, result: result, trial: scope.trial)
  }

  /// A warm hit: the call's id found by its warm key, its result in the
  /// memory layer, of exactly the type `type` (another, such as a subclass's
  /// instance, is found by the call's digest). Everything after the id is
  /// what any hit from the memory layer does (``reuseFromMemory(_:)``).
  ///
  /// Not generic, so that it asks the runtime for no generic type.
  func warmHit(
    _ op: Op, _ key: WarmKey, _ arguments: [Argument], _ scope: TaskScope, _ type: any Any.Type
  ) -> Any? {
    guard
      let id = op.details.warm.id(
        key, arguments, store: serial, semanticVersion: resolution(of: op).semanticVersion)
    else { return nil }
    // A call made again inside its own body runs it, as when hashed.
    if let caller = scope.stack, caller.contains(id) { return nil }
    guard let entry = memory.get(id),
      entry.valueType == ObjectIdentifier(type),
      serve(entry, id, op, isRandom: key.isRandom, trial: scope.trial, caller: scope.stack)
    else { return nil }
    return entry.value
  }

  /// A value found as an instance of `R`, as `R`: taken out of its
  /// existential without a dynamic cast when it was boxed as exactly `R`,
  /// as it almost always is (`as! R` cost a tenth of a warm hit's
  /// instructions), and cast otherwise. (A value is opened as the type it
  /// was boxed as, which a subclass's instance returned as its superclass
  /// is not: it is cast.)
  @inline(__always)
  static func unboxed<R>(_ value: Any, as _: R.Type) -> R {
    func project<T>(_ value: T) -> R {
      T.self == R.self ? _identityCast(value, to: R.self) : value as! R
    }
    return _openExistential(value, do: project)
  }

  /// Remembers the id of a call found by its digest under its warm key, if
  /// it has one, was looked up under the key it stands for, and its result
  /// is exactly of the type asked for (a warm hit takes no other).
  func remember<R>(_ key: WarmKey, _ call: PreparedCall, _ arguments: [Argument], _ value: R) {
    guard key.exists, key.isRandom == call.isRandom,
      ObjectIdentifier(type(of: value as Any)) == ObjectIdentifier(R.self)
    else { return }
    call.op.details.warm.remember(key, call, arguments, store: serial)
  }
}
