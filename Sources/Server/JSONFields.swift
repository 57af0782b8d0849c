// Reads a JSON request body field by field, so every bad value is a 400 that names its field.
import Foundation

struct JSONFields {
    let values: [String: Any]

    init(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { values = [:]; return }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) } catch {
            throw APIError(.badRequest, "the body is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw APIError(.badRequest, "the body must be a JSON object") }
        values = dictionary
    }

    init(dictionary: [String: Any]) { values = dictionary }

    /// The value at `key`, or nil when absent or JSON null.
    func raw(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    func string(_ key: String, maxLength: Int = 4096) throws -> String? {
        guard let value = raw(key) else { return nil }
        guard let text = value as? String else { throw APIError.badField(key, "must be a string") }
        guard text.utf8.count <= maxLength else { throw APIError.badField(key, "is longer than \(maxLength) bytes") }
        return text
    }

    func number(_ key: String) throws -> Double? {
        guard let value = raw(key) else { return nil }
        if Self.isBoolean(value) { throw APIError.badField(key, "must be a number, not true/false") }
        if let n = value as? NSNumber, n.doubleValue.isFinite { return n.doubleValue }
        if let text = value as? String, let n = Double(text), n.isFinite { return n }
        throw APIError.badField(key, "must be a number")
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let n = try number(key) else { return nil }
        guard range.contains(n) else { throw APIError.badField(key, "must be in \(range.lowerBound)...\(range.upperBound), got \(n)") }
        return n
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let n = try number(key) else { return nil }
        guard n.rounded() == n, n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw APIError.badField(key, "must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(n)")
        }
        return Int(n)
    }

    /// JSON true/false (Foundation bridges 0 and 1 to Bool too, so the type decides).
    static func isBoolean(_ value: Any) -> Bool {
        let name = String(describing: type(of: value))
        return value is Bool && (name == "Bool" || name.contains("Boolean"))
    }

    func strings(_ key: String) throws -> [String]? {
        guard let value = raw(key) else { return nil }
        guard let list = value as? [Any] else { throw APIError.badField(key, "must be a list of strings") }
        return try list.enumerated().map { index, item in
            guard let text = item as? String else { throw APIError.badField("\(key)[\(index)]", "must be a string") }
            return text
        }
    }

    /// A seed, or nil for −1 (A1111: pick one at random).
    func seed(_ key: String) throws -> UInt64? {
        guard let n = try number(key) else { return nil }
        if n == -1 { return nil }
        guard n.rounded() == n, n >= 0, n <= 18_446_744_073_709_549_568 else {
            throw APIError.badField(key, "must be −1 (random) or a whole number ≥ 0, got \(n)")
        }
        return UInt64(n)
    }
}
