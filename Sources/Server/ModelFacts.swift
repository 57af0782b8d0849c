// What requests are checked against: the loaded model's size rules, samplers and defaults.
import Foundation
import Pipelines
import Schedulers

public struct ModelFacts: @unchecked Sendable {
    public let name: String
    public let nativeSize: Int
    /// Width and height must be multiples of this.
    public let sizeMultiple: Int
    /// The sampler names this model's scheduler config can build.
    public let samplers: [String]
    public let defaultSteps = SamplingDefaults.steps
    public let defaultGuidance = SamplingDefaults.guidance

    public init(model: StableDiffusion, name: String) {
        self.name = name
        nativeSize = model.nativeSize
        sizeMultiple = (1...512).first { (try? model.validateSize(width: $0, height: $0)) != nil } ?? 8
        // Every sampler Diffuse knows, less those the model's config cannot build.
        samplers = SamplerName.allCases.map(\.rawValue).filter { (try? model.makeScheduler(named: $0)) != nil }
    }

    /// Checks a requested size; `field` names the request's own field in the error.
    func checkSize(width: Int, height: Int, limits: ServerLimits, field: String) throws {
        for (name, side) in [("width", width), ("height", height)] {
            guard side >= sizeMultiple, side <= limits.maxSide, side % sizeMultiple == 0 else {
                throw APIError.badField(field == "size" ? "size" : name,
                                        "\(name) must be a multiple of \(sizeMultiple) in \(sizeMultiple)...\(limits.maxSide), got \(side)")
            }
        }
    }

    /// A Diffuse or AUTOMATIC1111 sampler name → the Diffuse name; nil and "" mean the model's own.
    func sampler(_ name: String?, field: String) throws -> String? {
        guard let name, !name.isEmpty else { return nil }
        let resolved = SamplerNames.diffuseName(for: name) ?? name
        guard samplers.contains(resolved) else {
            throw APIError.badField(field, "unknown sampler '\(name)'; use one of \((SamplerNames.a1111Names + samplers).joined(separator: ", "))")
        }
        return resolved
    }

    var json: [String: Any] {
        ["model": name, "native_size": nativeSize, "size_multiple": sizeMultiple, "samplers": samplers,
         "a1111_samplers": SamplerNames.a1111Names, "default_steps": defaultSteps, "default_guidance": Double(defaultGuidance)]
    }
}

/// AUTOMATIC1111's sampler names and the Diffuse sampler each maps to.
enum SamplerNames {
    static let table: [(a1111: String, diffuse: String)] = [
        ("Euler", "euler"), ("Euler a", "euler-a"), ("DPM++ 2M", "dpm++2m"), ("DPM++ 2M Karras", "dpm++2m-karras"),
        ("DPM++ 2M SDE", "dpm++2m-sde"), ("DPM++ 2M SDE Karras", "dpm++2m-sde-karras"),
        ("DDIM", "ddim"), ("PNDM", "pndm"), ("LMS", "lms"), ("Heun", "heun"), ("LCM", "lcm"),
    ]
    static var a1111Names: [String] { table.map(\.a1111) }

    static func diffuseName(for name: String) -> String? {
        table.first { $0.a1111.caseInsensitiveCompare(name) == .orderedSame }?.diffuse
    }

    static func a1111Name(for diffuse: String?) -> String {
        guard let diffuse else { return "Default" }
        return table.first { $0.diffuse == diffuse }?.a1111 ?? diffuse
    }
}
