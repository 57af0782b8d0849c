// Renames inside one LDM layer (a resnet, a VAE attention, an OpenCLIP block): diffusers ↔ LDM.
extension LDMKeyMap {
    struct Rename {
        let diffusers: String
        let ldm: String
        let transform: LDMTransform
        init(_ diffusers: String, _ ldm: String, _ transform: LDMTransform = .same) {
            self.diffusers = diffusers
            self.ldm = ldm
            self.transform = transform
        }
    }

    /// Names that differ inside a part; any other name is the same on both sides.
    static func renames(_ part: Part) -> [Rename] {
        switch part {
        case .plain:
            return []
        case .unetResnet:  // ldm ResBlock: in_layers = [norm, SiLU, conv], out_layers = [norm, SiLU, dropout, conv]
            return [Rename("norm1.", "in_layers.0."), Rename("conv1.", "in_layers.2."), Rename("time_emb_proj.", "emb_layers.1."),
                    Rename("norm2.", "out_layers.0."), Rename("conv2.", "out_layers.3."), Rename("conv_shortcut.", "skip_connection.")]
        case .vaeResnet:
            return [Rename("conv_shortcut.", "nin_shortcut.")]
        case .vaeAttention:  // ldm AttnBlock uses 1×1 convolutions where diffusers has linears
            return [Rename("group_norm.", "norm."),
                    Rename("to_q.weight", "q.weight", .squeezed), Rename("to_q.bias", "q.bias"),
                    Rename("to_k.weight", "k.weight", .squeezed), Rename("to_k.bias", "k.bias"),
                    Rename("to_v.weight", "v.weight", .squeezed), Rename("to_v.bias", "v.bias"),
                    Rename("to_out.0.weight", "proj_out.weight", .squeezed), Rename("to_out.0.bias", "proj_out.bias")]
        case .openCLIPLayer:  // OpenCLIP's nn.MultiheadAttention stacks q, k, v in in_proj
            return [Rename("layer_norm1.", "ln_1."), Rename("layer_norm2.", "ln_2."),
                    Rename("mlp.fc1.", "mlp.c_fc."), Rename("mlp.fc2.", "mlp.c_proj."),
                    Rename("self_attn.out_proj.", "attn.out_proj."),
                    Rename("self_attn.q_proj.weight", "attn.in_proj_weight", .third(0)),
                    Rename("self_attn.k_proj.weight", "attn.in_proj_weight", .third(1)),
                    Rename("self_attn.v_proj.weight", "attn.in_proj_weight", .third(2)),
                    Rename("self_attn.q_proj.bias", "attn.in_proj_bias", .third(0)),
                    Rename("self_attn.k_proj.bias", "attn.in_proj_bias", .third(1)),
                    Rename("self_attn.v_proj.bias", "attn.in_proj_bias", .third(2))]
        }
    }
}
