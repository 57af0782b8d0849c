// A tokenizer paired with a text encoder: every id it can emit must index the encoder's embedding.
import FileIO

extension CLIPTextModel {
    /// Throws unless every id `tokenizer` can emit is a row of the token embedding (vocab_size);
    /// `location` names the tokenizer's folder in the message.
    public func checkTokenizer(_ tokenizer: CLIPTokenizer, location: String) throws {
        guard tokenizer.largestID < config.vocabSize else {
            throw InputError(location: location, reason: "the tokenizer has token id \(tokenizer.largestID), outside the text "
                             + "encoder's vocab_size \(config.vocabSize): the tokenizer and text encoder do not belong together")
        }
    }
}
