// Tests CLIPTokenizer against transformers' slow CLIPTokenizer ids in diffusers-tiny/reference/tokenizer.json.
import Foundation
import XCTest
import TestSupport
@testable import Models

final class CLIPTokenizerTests: XCTestCase {
    private struct Reference: Decodable {
        struct Info: Decodable {
            let bos_token_id: Int
            let eos_token_id: Int
            let pad_token_id: Int
            let vocab_size: Int
            let model_max_length: Int
        }
        struct Case: Decodable {
            let prompt: String
            let ids: [Int]
            let input_ids: [Int]
            let openai_clip_ids: [Int]
        }
        let tokenizer: Info
        let cases: [Case]
    }

    private static var cachedTokenizer: CLIPTokenizer?

    private func tokenizerDirectory() throws -> URL {
        try SharedData.url("fixtures/diffusers-tiny/tokenizer")
    }

    private func loadTokenizer() throws -> CLIPTokenizer {
        if let tokenizer = Self.cachedTokenizer { return tokenizer }
        let tokenizer = try CLIPTokenizer(directory: tokenizerDirectory())
        Self.cachedTokenizer = tokenizer
        return tokenizer
    }

    private func loadReference() throws -> Reference {
        let url = try SharedData.url("fixtures/diffusers-tiny/reference/tokenizer.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func testSpecialTokensMatchReference() throws {
        let tokenizer = try loadTokenizer()
        let reference = try loadReference()
        XCTAssertEqual(tokenizer.bos.id, reference.tokenizer.bos_token_id)
        XCTAssertEqual(tokenizer.eos.id, reference.tokenizer.eos_token_id)
        XCTAssertEqual(tokenizer.pad.id, reference.tokenizer.pad_token_id)
        XCTAssertEqual(tokenizer.vocabularySize, reference.tokenizer.vocab_size)
        XCTAssertEqual(tokenizer.modelMaxLength, reference.tokenizer.model_max_length)
    }

    func testEveryReferenceCaseMatchesExactly() throws {
        let tokenizer = try loadTokenizer()
        let reference = try loadReference()
        XCTAssertEqual(reference.cases.count, 33)
        var failures = 0
        for testCase in reference.cases {
            let ids = tokenizer.encode(testCase.prompt)
            let (inputIDs, truncated) = tokenizer.inputIDs(testCase.prompt, maxLength: 77)
            if ids != testCase.ids || inputIDs != testCase.input_ids { failures += 1 }
            XCTAssertEqual(ids, testCase.ids, "ids of \(testCase.prompt.debugDescription)")
            XCTAssertEqual(inputIDs, testCase.input_ids, "input_ids of \(testCase.prompt.debugDescription)")
            XCTAssertEqual(ids, testCase.openai_clip_ids, "OpenAI ids of \(testCase.prompt.debugDescription)")
            XCTAssertEqual(truncated, testCase.ids.count > 77, "truncated flag of \(testCase.prompt.debugDescription)")
            XCTAssertEqual(tokenizer.tokens(for: testCase.prompt).count, ids.count)
        }
        XCTAssertEqual(failures, 0)
    }

    func testTruncationKeepsEOSLast() throws {
        let tokenizer = try loadTokenizer()
        let prompt = Array(repeating: "red fox", count: 60).joined(separator: " ")   // 120 tokens
        let full = tokenizer.encode(prompt)
        XCTAssertEqual(full.count, 122)
        let (ids, truncated) = tokenizer.inputIDs(prompt)
        XCTAssertTrue(truncated)
        XCTAssertEqual(ids.count, 77)
        XCTAssertEqual(ids[0], tokenizer.bos.id)
        XCTAssertEqual(ids[76], tokenizer.eos.id)
        XCTAssertEqual(Array(ids[1..<76]), Array(full[1..<76]))
        // Exactly 75 prompt tokens fit without truncation.
        let fitting = Array(repeating: "red fox", count: 37).joined(separator: " ") + " red"
        let (fitIDs, fitTruncated) = tokenizer.inputIDs(fitting)
        XCTAssertFalse(fitTruncated)
        XCTAssertEqual(fitIDs, tokenizer.encode(fitting))
    }

    func testPaddingAndShortMaxLength() throws {
        let tokenizer = try loadTokenizer()
        let (ids, truncated) = tokenizer.inputIDs("a photo", maxLength: 10)
        XCTAssertFalse(truncated)
        let encoded = tokenizer.encode("a photo")
        XCTAssertEqual(ids.count, 10)
        XCTAssertEqual(Array(ids.prefix(encoded.count)), encoded)
        XCTAssertTrue(ids.dropFirst(encoded.count).allSatisfy { $0 == tokenizer.pad.id })
        for maxLength in 0..<3 {
            XCTAssertEqual(tokenizer.inputIDs("a photo", maxLength: maxLength).ids.count, maxLength)
        }
    }

    func testCustomPadTokenFromConfig() throws {
        let source = try tokenizerDirectory()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clip-pad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let config = #"{"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "!", "model_max_length": 77, "tokenizer_class": "CLIPTokenizer"}"#
        let map = #"{"bos_token": {"content": "<|startoftext|>"}, "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": "!"}"#
        try Data(config.utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        try Data(map.utf8).write(to: folder.appendingPathComponent("special_tokens_map.json"))

        let tokenizer = try CLIPTokenizer(directory: folder)
        let vocab = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("vocab.json"))) as? [String: Int]
        let exclamationID = try XCTUnwrap(vocab?["!"])
        XCTAssertEqual(tokenizer.pad.content, "!")
        XCTAssertEqual(tokenizer.pad.id, exclamationID)
        let (ids, _) = tokenizer.inputIDs("a photo of a cat")
        let encoded = tokenizer.encode("a photo of a cat")
        XCTAssertEqual(Array(ids.prefix(encoded.count)), encoded)
        XCTAssertEqual(ids.last, exclamationID)
        XCTAssertEqual(ids.filter { $0 == exclamationID }.count, 77 - encoded.count)
        // As in transformers, a declared special token is never merged: "!!" is two "!" tokens.
        XCTAssertEqual(tokenizer.encode("hi!!"), [tokenizer.bos.id, try XCTUnwrap(vocab?["hi</w>"]), exclamationID, exclamationID, tokenizer.eos.id])
    }

    func testMissingFilesAndBadJSONAreTypedErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clip-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try CLIPTokenizer(directory: folder)) { error in
            guard case CLIPTokenizerError.unreadableFile(let path, _)? = error as? CLIPTokenizerError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue(path.hasSuffix("vocab.json"))
        }
        try Data(#"{"a": 1, "b": x}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\na b\n".utf8).write(to: folder.appendingPathComponent("merges.txt"))
        XCTAssertThrowsError(try CLIPTokenizer(directory: folder)) { error in
            XCTAssertEqual(error as? CLIPTokenizerError,
                           .malformedJSON(path: folder.appendingPathComponent("vocab.json").path, offset: 14,
                                          reason: "expected an integer token id"))
        }
        // A vocabulary without the declared BOS token names the key.
        try Data(#"{"a": 0, "<|endoftext|>": 1}"#.utf8).write(to: folder.appendingPathComponent("vocab.json"))
        XCTAssertThrowsError(try CLIPTokenizer(directory: folder)) { error in
            guard case CLIPTokenizerError.unknownSpecialToken(_, let key, _)? = error as? CLIPTokenizerError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(key, "bos_token")
        }
    }

    func testVocabularyParserHandlesEscapes() throws {
        var parser = VocabularyJSONParser(bytes: Array(#"{"a\"b": 1, "\u00e9": 2, "\ud83d\ude80": 3, "\\/": 4}"#.utf8), path: "x")
        XCTAssertEqual(try parser.parse(), ["a\"b": 1, "é": 2, "🚀": 3, "\\/": 4])
    }

    func testCleanupFollowsFtfyAndPython() throws {
        func clean(_ text: String) -> String {
            String(String.UnicodeScalarView(CLIPTextCleanup.normalize(Array(text.unicodeScalars))))
        }
        // Expected values are what whitespace_clean(ftfy.fix_text(s)).lower() gives in Python.
        XCTAssertEqual(clean("&amp;amp; &lt;"), "& <")                  // ftfy loops to a fixed point
        XCTAssertEqual(clean("<b> &amp;"), "<b> &amp;")                 // a '<' turns unescaping off
        XCTAssertEqual(clean("x &#65;&#x42; &#59; &#12ab; &bogus;"), "x ab &#59; &#12ab; &bogus;")
        XCTAssertEqual(clean("ＡＢＣ\u{3000}ｶﾀｶﾅ"), "abc カタカナ")
        XCTAssertEqual(clean("\u{1B}[31mred\u{1B}[0m \u{91}q\u{92}"), "red 'q'")
        XCTAssertEqual(clean("ΟΔΟΣ ΣΑΣ"), "οδος σας")                 // Python's Final_Sigma rule
        XCTAssertEqual(clean("e\u{301}\u{feff}"), "\u{e9}")
    }

    func testDecodeAndTokenStrings() throws {
        let tokenizer = try loadTokenizer()
        // "🚀," is one pre-token: neither character is a letter or a number.
        let ids = tokenizer.encode("a photo of 猫 and 🚀, isn't it?")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "a photo of 猫 and 🚀, isn 't it ?")
        XCTAssertEqual(tokenizer.decode(ids), "<|startoftext|>a photo of 猫 and 🚀, isn 't it ? <|endoftext|>")
        XCTAssertEqual(tokenizer.tokens(for: "a photo"), ["<|startoftext|>", "a</w>", "photo</w>", "<|endoftext|>"])
        XCTAssertEqual(tokenizer.token(forID: ids[1]), "a</w>")
    }

    func testOddInputsNeverCrash() throws {
        let tokenizer = try loadTokenizer()
        var odd: [String] = [
            "", " ", "\u{0}\u{1}\u{7f}\u{85}\u{9f}", "🏳️‍🌈👨‍👩‍👧‍👦🧑🏽‍🚀", "東京タワー　写真", "مرحبا بالعالم", "שָׁלוֹם",
            "a\u{301}\u{302}\u{303}\u{304}\u{305}", "\u{200B}\u{200D}\u{FEFF}\u{202E}abc", "&#1114112; &#xD800; &#0; &#128512;",
            "<|endoftext|><|startoftext|><|ENDOFTEXT|>", "'s's't're'", "\u{10FFFF}\u{E000}\u{FFFD}", "ǅ ǈ ǋ İ ß ẞ ŉ ﬅ",
            String(repeating: "x", count: 10_000), String(repeating: "🚀", count: 3_000), String(repeating: "a!", count: 5_000),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<200 {
                if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x2FFFF, using: &generator)) { scalars.append(scalar) }
            }
            odd.append(String(scalars))
        }
        for text in odd {
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids.first, tokenizer.bos.id)
            XCTAssertEqual(ids.last, tokenizer.eos.id)
            XCTAssertTrue(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) })
            XCTAssertEqual(tokenizer.tokens(for: text).count, ids.count)
            XCTAssertEqual(tokenizer.inputIDs(text).ids.count, 77)
            _ = tokenizer.decode(ids)
        }
        // Byte-level BPE keeps every byte: decoding gives the text back.
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("東京タワー"), skipSpecialTokens: true), "東京タワー")
    }

    func testMergeLoopMatchesDirectTranscriptionOfBPE() throws {
        // The incremental merge loop against a line-by-line transcription of CLIP's bpe().
        let encoder = try loadTokenizer().encoder
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let word = (0..<Int.random(in: 1...80, using: &generator)).map { _ in
                UInt8(ascii: "a") + UInt8.random(in: 0..<6, using: &generator)
            }
            XCTAssertEqual(encoder.merge(word).map { encoder.symbolStrings[Int($0)] }, transcribedBPE(word, encoder))
        }
    }

    private func transcribedBPE(_ bytes: [UInt8], _ encoder: BytePairEncoder) -> [String] {
        let characters = bytes.map { String(BytePairEncoder.byteToUnicode[Int($0)]) }
        var word = Array(characters.dropLast()) + [characters[characters.count - 1] + "</w>"]
        func rank(_ a: String, _ b: String) -> Int? {
            guard let left = encoder.symbol(for: a), let right = encoder.symbol(for: b) else { return nil }
            return encoder.rank(left, right)
        }
        while word.count > 1 {
            var best: (rank: Int, index: Int)?
            for i in 0..<(word.count - 1) {
                if let r = rank(word[i], word[i + 1]), r < (best?.rank ?? Int.max) { best = (r, i) }
            }
            guard let (_, index) = best else { break }
            let first = word[index], second = word[index + 1]
            var next: [String] = []
            var i = 0
            while i < word.count {
                if i + 1 < word.count, word[i] == first, word[i + 1] == second {
                    next.append(first + second); i += 2
                } else {
                    next.append(word[i]); i += 1
                }
            }
            word = next
        }
        return word
    }

    func testLoadAndEncodeSpeed() throws {
        // Figures are printed, not asserted (speed is measured by benchmarks, never timed tests).
        let directory = try tokenizerDirectory()
        let start = Date()
        let tokenizer = try CLIPTokenizer(directory: directory)
        let loadSeconds = Date().timeIntervalSince(start)
        let prompt = "a very detailed photograph of a red fox in the snow, golden hour, 35mm, bokeh, masterpiece, " +
            "best quality, ultra-detailed, sharp focus, vivid colors, by a famous photographer, trending on artstation"
        let coldStart = Date()
        _ = tokenizer.inputIDs(prompt)
        let cold = Date().timeIntervalSince(coldStart)
        let repeats = 1000
        let warmStart = Date()
        for _ in 0..<repeats { _ = tokenizer.inputIDs(prompt) }
        let warm = Date().timeIntervalSince(warmStart) / Double(repeats)
        let vocabBytes = Array(try Data(contentsOf: directory.appendingPathComponent("vocab.json")))
        let parseStart = Date()
        var parser = VocabularyJSONParser(bytes: vocabBytes, path: "vocab.json")
        XCTAssertEqual(try parser.parse().count, 49408)
        let parseSeconds = Date().timeIntervalSince(parseStart)
        let foundationStart = Date()
        _ = try JSONSerialization.jsonObject(with: Data(vocabBytes)) as? [String: Int]
        let foundationSeconds = Date().timeIntervalSince(foundationStart)
        print(String(format: "CLIPTokenizer: vocab.json parse %.1f ms (JSONSerialization %.1f ms)", parseSeconds * 1000, foundationSeconds * 1000))
        print(String(format: "CLIPTokenizer: load %.1f ms; inputIDs of a %d-token prompt: first %.1f µs, cached %.1f µs",
                     loadSeconds * 1000, tokenizer.encode(prompt).count, cold * 1e6, warm * 1e6))
    }
}
