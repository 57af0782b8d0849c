// Safetensors parsing, and the files read through it: LoRA adapters and single-file checkpoints.
import Foundation
@testable import Models
import TensorCore

let safetensorsTarget = FuzzTarget(name: "safetensors", summary: "safetensors header, offsets and tensor reads") { bytes in
    let file = try SafetensorsFile(data: Data(bytes), path: "fuzz.safetensors")
    _ = file.metadata.count
    for name in file.names {
        _ = try? file.shape(name)
        switch try file.dtype(name) {
        case .i64: _ = try? file.int64s(name)
        default: _ = try? file.floats(name)
        }
    }
}

/// The fixture pipeline's U-Net and text encoder, which LoRA files are checked and merged against.
nonisolated(unsafe) private var loraModels: (unet: UNet2DConditionModel, text: CLIPTextModel)?

let loraTarget = FuzzTarget(name: "lora", summary: "LoRA files (diffusers/PEFT and kohya) checked and merged into the tiny pipeline", setUp: {
    let folder = try sharedFolder().appendingPathComponent("fixtures/diffusers-tiny")
    loraModels = (try UNet2DConditionModel.load(directory: folder.appendingPathComponent("unet")),
                  try CLIPTextModel.load(directory: folder.appendingPathComponent("text_encoder")))
}) { bytes in
    guard let models = loraModels else { return }
    let file = try LoRAFile(file: SafetensorsFile(data: Data(bytes), path: "fuzz.safetensors"))
    let unetAdapters = file.adapters.filter { $0.component == .unet }
    let textAdapters = file.adapters.filter { $0.component == .textEncoder }
    try models.unet.checkLoRA(unetAdapters, format: file.format, path: file.path)
    try models.text.checkLoRA(textAdapters, format: file.format, path: file.path)
    // Scale 0 keeps the weights as they were while running the whole merge.
    try models.unet.mergeLoRA(unetAdapters, scale: 0, format: file.format, path: file.path)
    try models.text.mergeLoRA(textAdapters, scale: 0, format: file.format, path: file.path)
}

/// Input: a safetensors header (the JSON); the data behind it is zeros, as long as the header's largest
/// offset needs (32 MB at most). Names and shapes decide everything the single-file loader infers,
/// and the safetensors target fuzzes the data checks, so mutations go where they matter.
let singleFileTarget = FuzzTarget(name: "single-file", summary: "single-file checkpoints (header JSON): family, inferred configs, key maps") { header in
    guard let object = try? JSONSerialization.jsonObject(with: Data(header)) as? [String: Any] else { return }
    let dataLength = object.values.compactMap { (($0 as? [String: Any])?["data_offsets"] as? [Int])?.last }.max() ?? 0
    guard (0...(32 << 20)).contains(dataLength) else { return }
    var bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) }
    bytes.append(contentsOf: header)
    bytes.append(Data(count: dataLength))
    let url = URL(fileURLWithPath: "checkpoint.safetensors")
    let checkpoint = try SingleFileCheckpoint(file: SafetensorsFile(data: bytes, path: url.path), url: url)
    let configs = try checkpoint.inferConfigs()
    try configs.unet.validate()
    try configs.vae.validate()
    try configs.text.validate()
    let maps = try checkpoint.keyMaps(configs)
    for name in checkpoint.file.names { for map in maps { _ = map.diffusers(forLDM: name) } }
}
