// Prompt → text-encoder context, batched for classifier-free guidance as diffusers does.
import Foundation
import Models
import TensorCore

extension StableDiffusion {
    /// Token ids padded/truncated to the encoder's length; `truncated` when the prompt was cut.
    public func tokenize(_ prompt: String) -> (ids: [Int], truncated: Bool) {
        tokenizer.inputIDs(prompt, maxLength: textEncoder.config.maxPositionEmbeddings)
    }

    /// The U-Net context for `count` images: [negative × count, prompt × count] when guiding,
    /// else [prompt × count]. Shape [B, 77, D].
    public func encodePrompt(_ prompt: String, negativePrompt: String, count: Int, guided: Bool,
                             warn: (String) -> Void = { _ in }) throws -> Tensor {
        guard count >= 1 else { throw PipelineError.invalidField("count", reason: "must be at least 1, got \(count)") }
        let positive = tokenize(prompt)
        if positive.truncated { warn("the prompt is longer than \(positive.ids.count) tokens and was truncated") }
        var rows = Array(repeating: positive.ids, count: count)
        if guided {
            let negative = tokenize(negativePrompt)
            if negative.truncated { warn("the negative prompt was truncated to \(negative.ids.count) tokens") }
            rows = Array(repeating: negative.ids, count: count) + rows
        }
        let ids = rows.flatMap { $0 }
        try textEncoder.validate(ids: ids, batch: rows.count)
        return Autograd.withoutGrad { textEncoder(ids: ids, batch: rows.count).lastHidden }
    }
}
