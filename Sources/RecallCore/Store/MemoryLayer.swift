import Synchronization

/// A least-recently-used cache of decoded results, bounded by bytes, in front of
/// a store's backend.
final class MemoryLayer: Sendable {
  struct Entry: @unchecked Sendable {
    // The value is `Sendable` (results are `Codable & Sendable`); it is kept as
    // `Any` so it can be cast back to the result type without rewrapping.
    var value: Any
    var cid: ContentID
    var hid: HistoryID
    var size: Int
    var duration: Double
    /// When the result was stored (seconds since 1970), for results that
    /// expire (``StoragePolicy/expiresAfter``).
    var storedAt: Double
    /// The tracked files the result holds, checked before it is served
    /// (``TrackedFile``); empty for almost every result.
    var files: [TrackedFile] = []
    /// A result of several outputs' outputs (``MultipleOutputs``), whose
    /// histories a hit remembers too.
    var parts: [ValuePart] = []
  }

  private struct Slot {
    var key: CallID
    var entry: Entry
    var previous: Int
    var next: Int
  }

  private struct LRU {
    var budget: Int
    var used = 0
    var index: [CallID: Int] = [:]
    var slots: [Slot] = []
    var free: [Int] = []
    var head = -1  // most recently used
    var tail = -1  // least recently used

    mutating func unlink(_ i: Int) {
      let (p, n) = (slots[i].previous, slots[i].next)
      if p >= 0 { slots[p].next = n } else { head = n }
      if n >= 0 { slots[n].previous = p } else { tail = p }
    }

    mutating func pushFront(_ i: Int) {
      slots[i].previous = -1
      slots[i].next = head
      if head >= 0 { slots[head].previous = i }
      head = i
      if tail < 0 { tail = i }
    }

    mutating func get(_ key: CallID) -> Entry? {
      guard let i = index[key] else { return nil }
      if head != i {
        unlink(i)
        pushFront(i)
      }
      return slots[i].entry
    }

    /// Removes an entry; returns its value, for the caller to let go of
    /// once it holds the lock no more (its `deinit`, or unmapping a large
    /// array, runs outside the lock).
    mutating func remove(_ key: CallID) -> Any? {
      guard let i = index.removeValue(forKey: key) else { return nil }
      unlink(i)
      used -= slots[i].entry.size
      defer { slots[i].entry.value = () }
      free.append(i)
      return slots[i].entry.value
    }

    /// Puts an entry; returns the values it evicted (``remove(_:)``).
    mutating func put(_ key: CallID, _ entry: Entry) -> [Any] {
      var evicted: [Any] = []
      if let old = remove(key) { evicted.append(old) }
      guard entry.size <= budget else { return evicted }
      while used + entry.size > budget, tail >= 0, let old = remove(slots[tail].key) {
        evicted.append(old)
      }
      let slot = Slot(key: key, entry: entry, previous: -1, next: -1)
      let i: Int
      if let reused = free.popLast() {
        slots[reused] = slot
        i = reused
      } else {
        slots.append(slot)
        i = slots.count - 1
      }
      index[key] = i
      pushFront(i)
      used += entry.size
      return evicted
    }
  }

  private let lru: Mutex<LRU>

  init(budget: Int) { lru = Mutex(LRU(budget: budget)) }

  func get(_ key: CallID) -> Entry? { lru.withLock { $0.get(key) } }

  func put(_ key: CallID, _ entry: Entry) {
    let evicted = lru.withLock { $0.put(key, entry) }
    withExtendedLifetime(evicted) {}
  }

  func remove(_ key: CallID) {
    let removed = lru.withLock { $0.remove(key) }
    withExtendedLifetime(removed) {}
  }

  var usedBytes: Int { lru.withLock { $0.used } }
}
