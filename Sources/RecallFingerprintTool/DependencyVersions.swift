// Dependencies' versions as part of op versions, for targets that ask for it
// (`swiftSettings: [.define("RECALL_TRACK_DEPENDENCIES")]`): an op reaches
// the packages whose modules the files of its reach import, and the packages
// those modules' products depend on (Recall's own left out); each pinned one (Package.resolved) is a component of its
// version, `package IDENTITY`, whose fingerprint is its pin and whose source
// names its version and revision. Upgrading a package then makes a new
// version of every op that reaches it, and a version diff names the package
// and its two versions. Packages without a pin (local ones) are not versioned.

import Foundation
import RecallFingerprint

struct DependencyVersions {
  /// The packages each module of the target's dependencies reaches: the
  /// one it comes from, and those of the products it depends on,
  /// transitively (the plugin works them out).
  var modulePackages: [String: [String]] = [:]
  /// Package.resolved's pins by identity: location, version, branch, revision.
  var pins: [String: [String]] = [:]

  /// Reads a `MODULE=PACKAGE,…` argument.
  mutating func add(module argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return }
    modulePackages[String(parts[0])] = parts[1].split(separator: ",").map(String.init)
  }

  /// The packages reached from the modules imported, sorted.
  func packages(importing modules: some Sequence<String>) -> [String] {
    Set(modules.flatMap { modulePackages[$0] ?? [] }).sorted()
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
