// A saved data order is checked when a checkpoint is read: a position, order entry or repeat
// count that does not fit the data is an error naming the field, never an out-of-range read.
import FileIO
import Foundation
import Training
import XCTest

final class BatchSamplerDecodingTests: XCTestCase {
    /// A sampler 3 draws into its first epoch, as JSON.
    func savedSampler(repeats: [Int]? = nil) throws -> [String: Any] {
        var sampler = BatchSampler(count: 4, seed: 7, repeats: repeats)
        _ = sampler.next(3)
        return try JSONSerialization.jsonObject(with: JSONEncoder().encode(sampler)) as! [String: Any]
    }

    func decode(_ object: [String: Any]) throws -> BatchSampler {
        try JSONDecoder().decode(BatchSampler.self, from: JSONSerialization.data(withJSONObject: object))
    }

    func testAValidSamplerRoundTrips() throws {
        var original = BatchSampler(count: 4, seed: 7, repeats: [1, 2, 1, 3])
        _ = original.next(5)
        var decoded = try JSONDecoder().decode(BatchSampler.self, from: JSONEncoder().encode(original))
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.next(20), original.next(20), "the same order goes on")
    }

    func testFieldsThatDoNotFitTheDataAreNamed() throws {
        let cases: [(String, Any, String)] = [
            ("position", 1_000_000, "sampler.position"), ("position", -1, "sampler.position"),
            ("order", [0, 1, 2, 9], "sampler.order"), ("order", [0, 1], "sampler.order"),
            ("count", 0, "sampler.count"), ("epoch", -3, "sampler.epoch"), ("repeats", [1, 0, 1, 1], "sampler.repeats"),
        ]
        for (field, value, location) in cases {
            var object = try savedSampler()
            object[field] = value
            XCTAssertThrowsError(try decode(object), "\(field) = \(value)") { error in
                XCTAssertEqual((error as? InputError)?.location, location, "\(error)")
            }
        }
    }
}
