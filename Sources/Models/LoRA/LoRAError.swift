// Errors of LoRA files: every one names the file and the key it is about.
import TensorCore

public enum LoRAFormat: FileFormat {
    public static let name = "LoRA"
}

public typealias LoRAError = FileFormatError<LoRAFormat>
