// What enters a pipeline is checked where it enters: empty or non-finite latents, images smaller
// than one latent, and guidance out of range are errors, not crashes or black images.
import Foundation
import Pipelines
import TensorCore
import XCTest

final class InputValidationTests: XCTestCase {
    func assertRefused(_ what: String, _ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), what, file: file, line: line) { XCTAssertTrue($0 is PipelineError, "\(what): \($0)", file: file, line: line) }
    }

    func testLatentsImagesAndGuidanceAreCheckedAtEntry() throws {
        let model = try PipelineFixture.model()
        assertRefused("a batch of 0") { try model.decode(latents: Tensor.zeros([0, 4, 8, 8])) }
        assertRefused("no pixels") { try model.decode(latents: Tensor.zeros([1, 4, 0, 0])) }
        assertRefused("3 channels") { try model.decode(latents: Tensor.zeros([1, 3, 8, 8])) }
        assertRefused("NaN latents") { try model.decode(latents: Tensor(shape: [1, 4, 2, 2], values: [Float](repeating: .nan, count: 16))) }
        assertRefused("a 1×1 image") { try model.encodeMean(images: Tensor.zeros([1, 3, 1, 1])) }
        let latents = Tensor.zeros([1, 4, 8, 8])
        for guidance: Float in [.nan, .infinity, -5, 1e30] {
            XCTAssertThrowsError(try model.denoise(latents: latents, from: 500, steps: 1, prompt: "red", guidance: guidance)) { error in
                guard case PipelineError.invalidField("guidance", _)? = error as? PipelineError else { return XCTFail("\(error)") }
            }
        }
        var request = GenerationRequest(prompt: "red")
        request.steps = 1
        request.guidance = 1e30
        assertRefused("generate with guidance 1e30") { try model.generate(request) }
        XCTAssertNoThrow(try model.decode(latents: latents), "valid latents still decode")
    }
}
