// The one error for bad input wherever it enters the library: what was wrong, where, and why.

/// A value from a file, a flag or a request that the library refuses. `location` says where it
/// came from (a path, `path: key`); `field` names a request field (`guidance`, `width`) that
/// a front end spells its own way (the CLI as `--guidance`, the server as a JSON field).
public struct InputError: Error, CustomStringConvertible, Equatable {
    public var location: String?
    public var field: String?
    public var reason: String

    public init(location: String? = nil, field: String? = nil, reason: String) {
        self.location = location
        self.field = field
        self.reason = reason
    }

    /// A request field out of range.
    public static func field(_ name: String, _ reason: String) -> InputError { InputError(field: name, reason: reason) }

    /// Something wrong at a path (a file, or `file: key`).
    public static func at(_ location: String, _ reason: String) -> InputError { InputError(location: location, reason: reason) }

    public var description: String {
        [location.map { "\($0):" }, field, reason].compactMap { $0 }.joined(separator: " ")
    }
}
