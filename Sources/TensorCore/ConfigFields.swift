// A config's keys listed once: each `config.json` key bound to its stored property, which then
// decodes, encodes and copies the whole config (diffusers' `@register_to_config`, in Swift).
import Foundation

/// A `config.json` key.
public struct ConfigKey: CodingKey {
    public let stringValue: String
    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public var intValue: Int? { nil }
    public init?(intValue: Int) { nil }
}

/// One key of a config: its JSON name and the property it fills.
public struct ConfigField<Config> {
    public let key: String
    /// The stored property this key fills.
    public let path: PartialKeyPath<Config>
    fileprivate let decode: (KeyedDecodingContainer<ConfigKey>, inout Config) throws -> Void
    fileprivate let encode: (Config, inout KeyedEncodingContainer<ConfigKey>) throws -> Void
    fileprivate let copy: (Config, inout Config) -> Void

    /// A value whose absent key (or `null`) keeps the default.
    public static func value<T: Codable>(_ key: String, _ path: WritableKeyPath<Config, T>) -> ConfigField {
        let k = ConfigKey(key)
        return ConfigField(key: key, path: path,
                           decode: { c, config in if let v = try c.decodeIfPresent(T.self, forKey: k) { config[keyPath: path] = v } },
                           encode: { config, c in try c.encode(config[keyPath: path], forKey: k) },
                           copy: { source, target in target[keyPath: path] = source[keyPath: path] })
    }

    /// An optional value: an absent key keeps the default, `null` means nil (Python's None).
    /// Nil is written as `null`, as diffusers writes None, unless `omittedWhenNil`.
    public static func optional<T: Codable>(_ key: String, _ path: WritableKeyPath<Config, T?>,
                                            omittedWhenNil: Bool = false) -> ConfigField {
        let k = ConfigKey(key)
        return ConfigField(key: key, path: path,
                           decode: { c, config in if c.contains(k) { config[keyPath: path] = try c.decodeIfPresent(T.self, forKey: k) } },
                           encode: { config, c in
                               let v = config[keyPath: path]
                               if v != nil || !omittedWhenNil { try c.encode(v, forKey: k) }
                           },
                           copy: { source, target in target[keyPath: path] = source[keyPath: path] })
    }

    /// Sets this field of `target` to its value in `source`.
    public func copy(from source: Config, to target: inout Config) { copy(source, &target) }
}

/// A config whose `fields` table is its whole schema; `init()` holds diffusers' defaults.
public protocol ConfigFields {
    init()
    static var fields: [ConfigField<Self>] { get }
}

extension ConfigFields {
    /// Reads every field that `decoder` holds (absent keys keep their defaults) and returns
    /// the keys present. A value of the wrong type is a `ConfigError` naming file and key.
    @discardableResult
    public mutating func decodeFields(from decoder: Decoder) throws -> Set<String> {
        let file = decoder.userInfo[ConfigFile.fileKey] as? String ?? "<\(Self.self)>"
        let container = try decoder.container(keyedBy: ConfigKey.self)
        for field in Self.fields {
            do { try field.decode(container, &self) } catch {
                throw ConfigFile.configError(error, file: file, key: field.key)
            }
        }
        return Set(container.allKeys.map(\.stringValue))
    }

    /// Writes every field under its key.
    public func encodeFields(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: ConfigKey.self)
        for field in Self.fields { try field.encode(self, &container) }
    }

    /// The field table's keys, in order.
    public static var keys: [String] { fields.map(\.key) }

    /// The key bound to `path` (for messages about a field's value); the path itself if unbound.
    public static func key(_ path: PartialKeyPath<Self>) -> String {
        fields.first { $0.path == path }?.key ?? "\(path)"
    }
}
