import Synchronization

/// A least-recently-used cache of decoded results, bounded by bytes, in front of
/// a store's backend.
final class MemoryLayer: Sendable {
  /// A result kept in memory. A class: a hit takes it with one retain,
  /// where copying a struct of eight fields cost a warm hit a tenth of its
  /// instructions.
  final class Entry: @unchecked Sendable {
    // The value is `Sendable` (results are `Codable & Sendable`); it is kept as
    // `Any` so it can be cast back to the result type without rewrapping.
    let value: Any
    /// The value's dynamic type, found once when the entry is made: a warm
    /// hit checks it without asking the runtime (``Store/warmHit``).
    let valueType: ObjectIdentifier
    let cid: ContentID
    let hid: HistoryID
    let size: Int
    let duration: Double
    /// When the result was stored (seconds since 1970), for results that
    /// expire (``StoragePolicy/expiresAfter``).
    let storedAt: Double
    /// The tracked files the result holds, checked before it is served
    /// (``TrackedFile``); empty for almost every result.
    let files: [TrackedFile]
    /// A result of several outputs' outputs (``MultipleOutputs``), whose
    /// histories a hit remembers too.
    let parts: [ValuePart]
    /// The top level's turn of the history map when a hit outside any
    /// memoized call last recorded this entry there
    /// (``HistoryMap/recordAtTopLevel(_:)``); -1 before.
    let recordedTurn = Atomic<Int>(-1)

    init(
      value: Any, cid: ContentID, hid: HistoryID, size: Int, duration: Double, storedAt: Double,
      files: [TrackedFile] = [], parts: [ValuePart] = []
    ) {
      self.value = value
      self.valueType = ObjectIdentifier(type(of: value))
      self.cid = cid
      self.hid = hid
      self.size = size
      self.duration = duration
      self.storedAt = storedAt
      self.files = files
      self.parts = parts
    }
  }

  private struct Slot {
    var key: CallID
    /// `nil` once removed (the slot is free).
    var entry: Entry?
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

    /// Removes an entry; returns it, for the caller to let go of once it
    /// holds the lock no more (its value's `deinit`, or unmapping a large
    /// array, runs outside the lock).
    mutating func remove(_ key: CallID) -> Entry? {
      guard let i = index.removeValue(forKey: key), let entry = slots[i].entry.take() else {
        return nil
      }
      unlink(i)
      used -= entry.size
      free.append(i)
      return entry
    }

    /// Puts an entry; returns the entries it evicted (``remove(_:)``): the
    /// one it replaces, then the least recently used while over budget. A
    /// new key is found once, as it is added to the index.
    mutating func put(_ key: CallID, _ entry: Entry) -> [Entry] {
      guard entry.size <= budget else { return remove(key).map { [$0] } ?? [] }
      let slot = Slot(key: key, entry: entry, previous: -1, next: -1)
      let i: Int
      if let reused = free.popLast() {
        slots[reused] = slot
        i = reused
      } else {
        slots.append(slot)
        i = slots.count - 1
      }
      var evicted: [Entry] = []
      if let old = index.updateValue(i, forKey: key), let replaced = slots[old].entry.take() {
        unlink(old)
        used -= replaced.size
        free.append(old)
        evicted.append(replaced)
      }
      pushFront(i)
      used += entry.size
      while used > budget, tail >= 0, tail != i, let old = remove(slots[tail].key) {
        evicted.append(old)
      }
      return evicted
    }
  }

  private let lru: Mutex<LRU>

  init(budget: Int) { lru = Mutex(LRU(budget: budget)) }

  func get(_ key: CallID) -> Entry? { lru.withLock { $0.get(key) } }

  /// Makes room for `count` more entries at once (no more than the budget
  /// could hold, at 8 bytes an entry), so that they are put without the
  /// index and the slots growing (and copied) under the lock while other
  /// threads wait for it: a sweep's store hits. The room at least doubles
  /// when it grows, so that many small sweeps do not copy the slots each.
  func reserve(_ count: Int) {
    lru.withLock { lru in
      let needed = min(lru.slots.count + count, lru.budget / 8)
      if needed > lru.slots.capacity {
        lru.slots.reserveCapacity(max(needed, 2 * lru.slots.capacity))
      }
      if needed > lru.index.capacity { lru.index.reserveCapacity(needed) }
    }
  }

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
