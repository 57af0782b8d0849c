// Shuffled batches, epoch by epoch, from a seed: the order depends only on (seed, epoch).
import Foundation

public struct BatchSampler: Codable {
    public let count: Int
    public let seed: UInt64
    public private(set) var epoch = 0
    public private(set) var position = 0
    private var order: [Int] = []

    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
        order = Self.permutation(count: count, seed: seed, epoch: 0)
    }

    /// The next `size` indices, crossing into a freshly shuffled epoch when one runs out.
    public mutating func next(_ size: Int) -> [Int] {
        var batch: [Int] = []
        while batch.count < size {
            if position == count {
                epoch += 1
                position = 0
                order = Self.permutation(count: count, seed: seed, epoch: epoch)
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
