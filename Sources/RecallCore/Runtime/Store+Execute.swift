import Foundation

extension Store {
  /// A call whose body is running: when it started, and its inputs with
  /// their histories, taken in the caller's scope before the body runs.
  struct Execution {
    let startedAt: Date
    let clock: ContinuousClock.Instant
    let inputs: [CallInput]
    /// The key's fields, for the stream's seed and the call's record (made
    /// once per execution).
    let keyFields: [UInt8]
    /// The scope of the body: the memoized calls it runs inside of, this one
    /// first (with the call's ``RandomSource`` stream), in the call's trial.
    let scope: TaskScope
    /// Why the call runs rather than being reused (recorded with it).
    let cause: MissCause

    /// The call's stack.
    var stack: CallStack { scope.stack! }
  }

  /// Starts executing a call: its inputs' histories are taken in the
  /// caller's scope, and the body's own scope opens, seeded with them.
  func willExecute(_ call: PreparedCall, because cause: MissCause) -> Execution {
    eventCenter.emit(.didMiss(call.reference, cause))
    eventCenter.emit(.willExecute(call.reference))
    if let element = Sweep.Element.current, element.store == ObjectIdentifier(self) {
      element.ranABody()
    }
    let inputs = callInputs(call)
    histories.open(call.id, inputs: inputs, parts: call.inputParts)
    let keyFields = call.keyFields
    let stack = CallStack(
      id: call.id, parent: call.caller,
      random: RandomStream(call: call, keyFields: keyFields, trial: call.trial))
    return Execution(
      startedAt: Date(), clock: ContinuousClock.now, inputs: inputs, keyFields: keyFields,
      scope: TaskScope(
        stack: stack, trial: call.trial, isAuditing: TaskScope.current.isAuditing), cause: cause)
  }

  /// A call's inputs with their histories in the caller's scope.
  ///
  /// (The parts of those stored by parts are ``PreparedCall/inputParts``.)
  func callInputs(_ call: PreparedCall) -> [CallInput] {
    zip(call.arguments, call.inputs).map { argument, input in
      CallInput(
        name: argument.name, cid: input.cid, hid: histories.hid(for: input.cid, in: call.caller?.id)
      )
    }
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
      eventCenter.emit(.didFail(call.reference, error: String(describing: error)))
      if claimed { endClaim(call, stored: false) }
      throw error
    case .success(let value):
      // A call that drew random numbers, or used a random call's result, is
      // filed under its trial; one that did not is shared by every trial.
      let isRandom = started.stack.random.isRandom
      call.op.details.note(random: isRandom)
      if isRandom { call.caller?.random.markRandom() }
      var filed = call.keyed(random: isRandom)
      eventCenter.emit(.didExecute(filed.reference, duration: elapsed))
      noteDuration(of: call.op, seconds)
      // A change accepted while the body ran may have moved the version to
      // another class: the result is filed where its code now belongs.
      if confirm(&filed) || filed.id != call.id, claimed {
        endClaim(call, stored: false)
        record(
          filed, value, inputs: started.inputs, keyFields: started.keyFields,
          startedAt: started.startedAt, duration: seconds, cause: started.cause, claimed: false)
      } else {
        record(
          filed, value, inputs: started.inputs, keyFields: started.keyFields,
          startedAt: started.startedAt, duration: seconds, cause: started.cause, claimed: claimed)
      }
      return value
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
}
