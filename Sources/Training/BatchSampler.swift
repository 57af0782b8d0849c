// Shuffled batches, epoch by epoch, from a seed: the order depends only on (seed, epoch).
// An epoch may hold some images several times (`repeats`), to oversample rare ones.
import FileIO
import Foundation

public struct BatchSampler: Codable, Equatable {
    /// Images in the dataset.
    public let count: Int
    public let seed: UInt64
    /// Times each image appears per epoch (one count of at least 1 per image, checked by
    /// the caller); nil means once each.
    public let repeats: [Int]?
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []

    public init(count: Int, seed: UInt64, repeats: [Int]? = nil) {
        self.count = count
        self.seed = seed
        self.repeats = repeats
        order = Self.epochOrder(count: count, repeats: repeats, seed: seed, epoch: 0)
    }

    enum CodingKeys: String, CodingKey { case count, seed, repeats, epoch, position, order }

    /// Decodes a saved sampler and checks it: a checkpoint's order and position index the data,
    /// so an edited or mismatched one is an error naming the field, never an out-of-range read.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decode(Int.self, forKey: .count)
        seed = try c.decode(UInt64.self, forKey: .seed)
        repeats = try c.decodeIfPresent([Int].self, forKey: .repeats)
        epoch = try c.decode(Int.self, forKey: .epoch)
        position = try c.decode(Int.self, forKey: .position)
        order = try c.decode([Int].self, forKey: .order)
        func invalid(_ field: String, _ reason: String) -> InputError { InputError(location: "sampler.\(field)", reason: reason) }
        guard count >= 1 else { throw invalid("count", "\(count) images; expected at least 1") }
        if let repeats {
            guard repeats.count == count, repeats.allSatisfy({ $0 >= 1 && $0 <= 1_000_000 }) else {
                throw invalid("repeats", "expected \(count) counts from 1 to 1000000")
            }
        }
        guard (0..<Int.max).contains(epoch) else { throw invalid("epoch", "\(epoch) is negative or at its limit") }
        guard order.count == epochLength else {
            throw invalid("order", "holds \(order.count) entries for an epoch of \(epochLength)")
        }
        if let bad = order.first(where: { !(0..<count).contains($0) }) {
            throw invalid("order", "entry \(bad) is outside the \(count) images 0..<\(count)")
        }
        guard (0...order.count).contains(position) else {
            throw invalid("position", "\(position) is outside 0...\(order.count) of the epoch's order")
        }
    }

    /// Draws per epoch: the dataset size, or more with repeats.
    public var epochLength: Int { repeats?.reduce(0, +) ?? count }

    /// The images of one epoch, each as often as its repeat count, shuffled.
    static func epochOrder(count: Int, repeats: [Int]?, seed: UInt64, epoch: Int) -> [Int] {
        guard let repeats else { return permutation(count: count, seed: seed, epoch: epoch) }
        let pool = repeats.enumerated().flatMap { Array(repeating: $0.offset, count: $0.element) }
        return permutation(count: pool.count, seed: seed, epoch: epoch).map { pool[$0] }
    }

    /// The next `size` indices, crossing into a freshly shuffled epoch when one runs out.
    public mutating func next(_ size: Int) -> [Int] {
        var batch: [Int] = []
        while batch.count < size {
            if position == order.count {
                epoch += 1
                position = 0
                order = Self.epochOrder(count: count, repeats: repeats, seed: seed, epoch: epoch)
            }
            batch.append(order[position])
            position += 1
        }
        return batch
    }

    static func permutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var state = seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(SplitMix64.next(&state) % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }
}

/// A small seeded generator for data decisions (shuffles, flips, caption dropout, timesteps).
public enum SplitMix64 {
    public static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public static func unit(_ state: inout UInt64) -> Double { Double(next(&state) >> 11) / Double(1 << 53) }
}
