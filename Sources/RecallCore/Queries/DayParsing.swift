import Foundation

extension Calendar {
  /// The start of the day a `YYYY-MM-DD` text names in this calendar, or
  /// `nil` when the text is not such a date (`2026-13-40` is refused, not
  /// rolled over into 2027). Used for `recall stats --since`.
  package func day(parsing text: String) -> Date? {
    let fields = text.split(separator: "-", omittingEmptySubsequences: false)
    // Four-digit years: Foundation's calendar arithmetic is not defined for
    // every Int (a year of 10^18 traps in some versions).
    guard fields.count == 3, fields[0].count == 4, (1...2).contains(fields[1].count),
      (1...2).contains(fields[2].count),
      fields.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
    else { return nil }
    let parts = fields.compactMap { Int($0) }
    guard parts.count == 3,
      let date = date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    else { return nil }
    let back = dateComponents([.year, .month, .day], from: date)
    return [back.year, back.month, back.day] == parts.map(Optional.some) ? date : nil
  }
}
