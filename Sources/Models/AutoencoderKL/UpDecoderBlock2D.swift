// Matches diffusers UpDecoderBlock2D: layers_per_block+1 resnets, then Upsample2D (nearest 2×, 3×3 conv).
import NN
import TensorCore

public final class UpDecoderBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    /// `upsamplers.0.conv`; absent in the last block.
    public let upsampler: Conv2d?

    public init(inChannels: Int, outChannels: Int, layers: Int, groups: Int, addUpsample: Bool,
                activation: ResnetActivation, initializer: inout Initializer) {
        resnets = ResnetBlock2D.stack(count: layers, inChannels: inChannels, outChannels: outChannels, groups: groups,
                                      activation: activation, initializer: &initializer)
        upsampler = addUpsample
            ? Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        numbered("resnets", resnets) + (upsampler.map { [("upsamplers.0.conv", $0)] } ?? [])
    }

    /// x [N, Cin, H, W] → [N, Cout, 2H, 2W] (or [N, Cout, H, W] without upsampler)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = resnets.reduce(x) { h, resnet in resnet(h) }
        guard let upsampler else { return h }
        return upsampler(h.upsampledNearest2x())
    }
}
