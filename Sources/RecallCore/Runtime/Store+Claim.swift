import Foundation

extension Store {
  /// Looks at the call's claim in a shared store once: claims it, finds it
  /// stored, or (while another process computes it) says how long to pause
  /// before looking again. Problems become warnings and the body runs.
  func nextClaimStep(_ call: PreparedCall, _ wait: inout ClaimWait) -> ClaimWait.Step {
    // Results no other process can reuse (kept in memory only) are not claimed.
    guard backend.isShared, configuration.claims.isEnabled,
      storagePolicy(for: call.op).isMemoryOnly != true,
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
        .storeFailure, call.reference,
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
        eventCenter.emit(.willWait(call.reference, holder: claim.claimant))
      }
    case .giveUp(let holder, let waited):
      warn(
        .waitedTooLong, call.reference,
        "waited \(Int(waited.inSeconds.rounded())) s for \(holder), which is computing it "
          + "(ClaimPolicy.maximumWait); running it here too. Raise maximumWait for calls that take longer."
      )
    case .run(claimed: false), .reuse:
      break
    }
    return step
  }

  /// Ends this process's claim on a call it ran: the heartbeat stops, and a
  /// claim whose result was not stored is released so a waiter runs the call.
  func endClaim(_ call: PreparedCall, stored: Bool) {
    Store.endClaim(call.id, stored: stored, backend: backend, keeper: claimKeeper) {
      warn(.storeFailure, call.reference, $0)
    }
  }

  /// Stops renewing a claim, and releases it when its call was not stored
  /// (`warn` says why a release failed).
  static func endClaim(
    _ id: CallID, stored: Bool, backend: any StoreWriter, keeper: ClaimKeeper,
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
}
