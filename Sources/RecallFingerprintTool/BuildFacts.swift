// What the tool records about the build in the table's build section
// (RecallCodeTable's BuildTable): the package's name, its git commit and
// uncommitted changes, the compiler, and the dependencies Package.resolved
// pins. The runtime stores them, once per distinct environment, with every
// call the module's ops record.
//
// The tool runs when one of its inputs changes (a source file, Package.resolved,
// the compiler), so the commit and changes are those of the tree at the last
// build that changed one: together they always give the sources that were
// compiled.

import Foundation
import RecallCodeTable
import RecallFingerprint

#if canImport(Darwin)
  import Darwin
#else
  import Glibc
#endif

struct BuildFacts {
  var packageName: String?
  var packageDirectory: String?
  var swiftc: String?
  /// Package.resolved's pins (``resolvedPins(_:)``), read once per run.
  var pins: [[String]] = []
  /// Whether to leave the changes themselves out of the table (their digest
  /// stays): the target defines `RECALL_OMIT_CHANGES`.
  var omitsChanges = false
  /// Where the compiler's version is cached, by the compiler's path, size and
  /// modification time (running `swiftc --version` takes 60 ms).
  var compilerCache: String

  /// The build section's fields, in a fixed order so that an unchanged build
  /// writes the same table.
  func fields(sources: [String]) -> [(name: String, value: String)] {
    var fields: [(name: String, value: String)] = []
    if let packageName { fields.append((BuildTable.package, packageName)) }
    if let packageDirectory, let (commit, changes) = gitState(packageDirectory, sources: sources) {
      fields.append((BuildTable.commit, commit))
      if !changes.isEmpty {
        fields.append((BuildTable.changesDigest, SHA256.hex(changes)))
        if !omitsChanges { fields.append((BuildTable.changes, cut(changes))) }
      }
    }
    if let compiler = compilerVersion() { fields.append((BuildTable.compiler, compiler)) }
    for pin in pins {
      fields.append((BuildTable.dependency, pin.joined(separator: "\n")))
    }
    return fields
  }

  /// The commit and the uncommitted changes to the package's files (tracked
  /// files' diff against the commit, then the untracked sources the build
  /// reads, as new files), or `nil` outside a git repository (or in a
  /// directory it ignores).
  func gitState(_ directory: String, sources: [String]) -> (commit: String, changes: String)? {
    guard
      let head = run(
        "/usr/bin/env", ["git", "-C", directory, "rev-parse", "HEAD", "--show-prefix"]),
      let commit = head.split(separator: "\n", omittingEmptySubsequences: false).first,
      commit.count >= 40
    else { return nil }
    // A package inside a directory its repository ignores (a checkout in
    // another project's build folder) is not part of that repository's commits.
    if run("/usr/bin/env", ["git", "-C", directory, "check-ignore", "-q", "."]) != nil {
      return nil
    }
    let lines = head.split(separator: "\n", omittingEmptySubsequences: false)
    let prefix = lines.count > 1 ? String(lines[1]) : ""
    var changes =
      run(
        "/usr/bin/env",
        [
          // A patch `git apply` takes in the repository's root, whatever the
          // user's diff settings.
          "git", "-C", directory, "diff", "HEAD", "--no-color", "--no-ext-diff", "--no-textconv",
          "--binary", "--no-relative", "--src-prefix=a/", "--dst-prefix=b/", "--submodule=short",
          "--", ".",
        ]
      ) ?? ""
    let root = URL(fileURLWithPath: directory).standardizedFileURL.path
    let read = Set(sources.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
    let untracked =
      run(
        "/usr/bin/env",
        [
          "git", "-C", directory, "ls-files", "--others", "--exclude-standard", "-z", "--",
          "*.swift",
        ]
      ) ?? ""
    for path in untracked.split(separator: "\0").map(String.init).sorted() {
      let full = root + "/" + path
      // A text file: a NUL byte is no source (and no database's text).
      guard read.contains(full), let text = try? String(contentsOfFile: full, encoding: .utf8),
        !text.utf8.contains(0)
      else { continue }
      changes += newFilePatch(prefix + path, text)
    }
    return (String(commit), changes)
  }

  /// The changes, cut to ``BuildTable/maximumChanges`` bytes at a character
  /// boundary, with a line saying so.
  func cut(_ changes: String) -> String {
    let bytes = Array(changes.utf8)
    guard bytes.count > BuildTable.maximumChanges else { return changes }
    var end = BuildTable.maximumChanges
    while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
    return String(decoding: bytes[..<end], as: UTF8.self)
      + "\n[cut: the changes are \(bytes.count) bytes]\n"
  }

  /// A patch that creates a file, as `git diff` writes one.
  func newFilePatch(_ path: String, _ text: String) -> String {
    // By bytes: a Character is "\r\n" in a file with Windows line ends.
    var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      .map { String(decoding: $0, as: UTF8.self) }
    let endsWithNewline = lines.last == ""
    if endsWithNewline { lines.removeLast() }
    var patch =
      "diff --git a/\(path) b/\(path)\nnew file mode 100644\n--- /dev/null\n+++ b/\(path)\n"
    guard !lines.isEmpty else { return patch }
    patch += "@@ -0,0 +1\(lines.count == 1 ? "" : ",\(lines.count)") @@\n"
    patch += lines.map { "+" + $0 + "\n" }.joined()
    if !endsWithNewline { patch += "\\ No newline at end of file\n" }
    return patch
  }

  /// The first line of `swiftc --version`, cached while the compiler is unchanged.
  func compilerVersion() -> String? {
    // The toolchain's swiftc is a link: the file it names is what changes.
    guard let swiftc,
      let attributes = try? FileManager.default.attributesOfItem(
        atPath: URL(fileURLWithPath: swiftc).resolvingSymlinksInPath().path)
    else { return nil }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
    let key = "\(swiftc)\n\(size)\n\(modified)\n"
    if let cached = try? String(contentsOfFile: compilerCache, encoding: .utf8),
      cached.hasPrefix(key)
    {
      return String(cached.dropFirst(key.count))
    }
    guard let output = run(swiftc, ["--version"]),
      let line = output.split(separator: "\n").first.map(String.init)
    else { return nil }
    try? (key + line).write(toFile: compilerCache, atomically: true, encoding: .utf8)
    return line
  }

  /// Package.resolved's pins (format 1, 2 or 3): identity, location,
  /// version, branch and revision (empty when unknown), sorted by identity.
  static func resolvedPins(_ resolved: String?) -> [[String]] {
    guard let resolved, let data = FileManager.default.contents(atPath: resolved),
      let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [] }
    let pins =
      (json["pins"] as? [[String: Any]])
      ?? ((json["object"] as? [String: Any])?["pins"] as? [[String: Any]]) ?? []
    return pins.map { pin in
      let state = pin["state"] as? [String: Any] ?? [:]
      let location = pin["location"] as? String ?? pin["repositoryURL"] as? String ?? ""
      let identity =
        pin["identity"] as? String ?? pin["package"] as? String
        ?? URL(fileURLWithPath: location).deletingPathExtension().lastPathComponent.lowercased()
      return [
        identity, location, state["version"] as? String ?? "", state["branch"] as? String ?? "",
        state["revision"] as? String ?? "",
      ]
    }.sorted { $0[0] < $1[0] }
  }

  /// Runs a program; its standard output when it exits with 0. Through
  /// `posix_spawn`: Foundation's `Process` takes 50 ms a run on Linux,
  /// this 2 ms.
  func run(_ executable: String, _ arguments: [String]) -> String? {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return nil }
    #if canImport(Darwin)
      var actions: posix_spawn_file_actions_t? = nil
    #else
      var actions = posix_spawn_file_actions_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
    posix_spawn_file_actions_addclose(&actions, ends[0])
    posix_spawn_file_actions_addclose(&actions, ends[1])
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // The package's repository, not one a git hook that runs the build
    // names (GIT_DIR, GIT_INDEX_FILE, GIT_CONFIG_PARAMETERS…).
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
    // Git must not take the index lock: the user may be running git too.
    environment["GIT_OPTIONAL_LOCKS"] = "0"
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    close(ends[1])
    defer { close(ends[0]) }
    guard spawned == 0 else { return nil }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = read(ends[0], &buffer, buffer.count)
      if count > 0 {
        output += buffer[..<count]
      } else if count < 0, errno == EINTR {
        continue
      } else {
        break
      }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    // Exited (not killed by a signal), with status 0.
    guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { return nil }
    return String(decoding: output, as: UTF8.self)
  }
}
