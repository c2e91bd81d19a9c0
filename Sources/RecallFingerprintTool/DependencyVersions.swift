// Dependencies' versions as part of op versions, for targets that ask for it
// (`swiftSettings: [.define("RECALL_TRACK_DEPENDENCIES")]`): an op reaches
// the packages whose modules the files of its reach import, and the packages
// those depend on; each pinned one (Package.resolved) is a component of its
// version, `package IDENTITY`, whose fingerprint is its pin and whose source
// names its version and revision. Upgrading a package then makes a new
// version of every op that reaches it, and a version diff names the package
// and its two versions. Packages without a pin (local ones) are not versioned.

import Foundation
import RecallFingerprint

struct DependencyVersions {
  /// The package each module of the target's dependencies comes from.
  var modulePackages: [String: String] = [:]
  /// Each package's direct dependencies.
  var packageDependencies: [String: [String]] = [:]
  /// Package.resolved's pins by identity: location, version, branch, revision.
  var pins: [String: [String]] = [:]

  /// Reads `MODULE=PACKAGE` and `PACKAGE=DEPENDENCY,…` arguments.
  mutating func add(module argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    if parts.count == 2 { modulePackages[parts[0]] = parts[1] }
  }

  mutating func add(packageDependencies argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return }
    packageDependencies[String(parts[0])] = parts[1].split(separator: ",").map(String.init)
  }

  /// The packages reached from modules imported, and what they depend on,
  /// sorted.
  func packages(importing modules: some Sequence<String>) -> [String] {
    var reached: Set<String> = []
    var pending = modules.compactMap { modulePackages[$0] }
    while let package = pending.popLast() {
      guard reached.insert(package).inserted else { continue }
      pending += packageDependencies[package] ?? []
    }
    return reached.sorted()
  }

  /// A pinned package's component: `package IDENTITY`, fingerprinted by its
  /// pin; `nil` for a package without one.
  func component(_ package: String) -> (identity: String, fingerprint: String, source: String)? {
    guard let pin = pins[package] ?? pins[package.lowercased()] else { return nil }
    let (location, version, branch, revision) = (pin[0], pin[1], pin[2], pin[3])
    let resolution =
      version.isEmpty ? (branch.isEmpty ? "unversioned" : "branch \(branch)") : version
    let source =
      "\(package) \(resolution)" + (revision.isEmpty ? "" : " (revision \(revision))")
      + "\nfrom \(location)"
    return ("package \(package)", SHA256.hex(pin.joined(separator: "\n")), source)
  }
}
