import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Fresh memory for large values (a 100 MB array loaded from the store).
///
/// The first write to each 4 KiB page of new memory faults into the kernel,
/// which zeroes and accounts the page: for 100 MB that is 25,600 faults, and on
/// a virtual machine they cost more than the copy itself (scenario E).
/// Asking for transparent huge pages turns them into about
/// fifty 2 MiB faults, where the kernel allows it (`madvise` mode, the common
/// default).
package enum LargeBuffers {
  /// Buffers smaller than this are left alone: below a few huge pages, the
  /// advice saves nothing.
  static let threshold = 8 << 20
  static let hugePage = 2 << 20
  /// The processor's cores, asked for once.
  static let cores = ProcessInfo.processInfo.activeProcessorCount

  /// Advises the kernel to back the 2 MiB-aligned interior of a buffer that
  /// nothing has written yet with huge pages. Harmless where it is not
  /// supported.
  package static func prepare(_ start: UnsafeMutableRawPointer, count: Int) {
    #if os(Linux)
      guard count >= threshold else { return }
      let address = UInt(bitPattern: start)
      let first = (address + UInt(hugePage) - 1) & ~UInt(hugePage - 1)
      let end = (address + UInt(count)) & ~UInt(hugePage - 1)
      guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
      _ = madvise(aligned, Int(end - first), MADV_HUGEPAGE)
    #endif
  }

  /// Copies memory into fresh memory; a large copy is split across the cores,
  /// each faulting in (zeroing) and filling its own part of the destination:
  /// for 100 MB, zeroing the new pages and copying into them were two thirds
  /// of a hit's time, on one core. `populating` source memory (a mapped file)
  /// has its pages asked for, part by part, first.
  package static func copy(
    _ source: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer,
    populating: Bool = false, cores: Int? = nil
  ) {
    guard let base = source.baseAddress, source.count > 0 else { return }
    // The cores are asked for only for a large copy: Foundation reads them
    // from files under /proc on Linux, about as long as copying 2 KB.
    let pieces = source.count / threshold
    let parts = pieces > 1 ? min(cores ?? Self.cores, pieces) : pieces
    guard parts > 1 else {
      if populating { populate(source) }
      destination.copyMemory(from: base, byteCount: source.count)
      return
    }
    // Whole huge pages per part, rounded up so that the parts cover it all
    // (the last one is shorter; the last few may be empty).
    let piece = ((source.count + parts - 1) / parts + hugePage - 1) & ~(hugePage - 1)
    nonisolated(unsafe) let (source, destination) = (source, destination)
    DispatchQueue.concurrentPerform(iterations: parts) { index in
      let start = index * piece
      guard start < source.count else { return }
      let part = UnsafeRawBufferPointer(rebasing: source[start..<min(start + piece, source.count)])
      if populating { populate(part) }
      (destination + start).copyMemory(from: part.baseAddress!, byteCount: part.count)
    }
  }

  /// Asks the kernel to map all pages of a large region of a mapped file at
  /// once, before a pass over all of it (a copy, a checksum), rather than
  /// fault them in one group at a time. Blob files are mapped lazily, so that
  /// a ``MappedArray`` that reads a few elements touches only their pages.
  /// Harmless where it is not supported (Linux before 5.14, other systems).
  package static func populate(_ bytes: UnsafeRawBufferPointer) {
    #if os(Linux)
      guard bytes.count >= threshold, let base = bytes.baseAddress else { return }
      let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
      let first = UInt(bitPattern: base) & ~(page - 1)
      let end = UInt(bitPattern: base) + UInt(bytes.count)
      let populateRead: Int32 = 22  // MADV_POPULATE_READ
      _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(end - first), populateRead)
    #endif
  }
}
