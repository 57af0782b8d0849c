// Matches diffusers DownEncoderBlock2D: resnets, then Downsample2D (pad right/bottom by 1, 3×3 stride-2 conv).
import NN
import TensorCore

public final class DownEncoderBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    /// `downsamplers.0.conv`; absent in the last block.
    public let downsampler: Conv2d?

    public init(inChannels: Int, outChannels: Int, layers: Int, groups: Int, addDownsample: Bool,
                activation: ResnetActivation, initializer: inout Initializer) {
        resnets = ResnetBlock2D.stack(count: layers, inChannels: inChannels, outChannels: outChannels, groups: groups,
                                      activation: activation, initializer: &initializer)
        downsampler = addDownsample
            ? Conv2d(outChannels, outChannels, kernelSize: 3, stride: 2, padding: 0, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        numbered("resnets", resnets) + (downsampler.map { [("downsamplers.0.conv", $0)] } ?? [])
    }

    /// x [N, Cin, H, W] → [N, Cout, ⌈H/2⌉, ⌈W/2⌉] (or [N, Cout, H, W] without downsampler)
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = resnets.reduce(x) { h, resnet in resnet(h) }
        guard let downsampler else { return h }
        return downsampler(Self.padRightBottom(h))
    }

    /// Zero-pads one column on the right and one row at the bottom (F.pad(x, (0, 1, 0, 1))).
    /// [N, C, H, W] → [N, C, H+1, W+1]
    static func padRightBottom(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let wider = Tensor.concat([x, .zeros([n, c, h, 1])], axis: 3)        // [N, C, H, W+1]
        return Tensor.concat([wider, .zeros([n, c, 1, w + 1])], axis: 2)     // [N, C, H+1, W+1]
    }
}
