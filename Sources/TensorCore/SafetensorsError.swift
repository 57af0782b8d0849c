// The typed error of safetensors reading and writing: which file, and what was wrong where.

public enum SafetensorsFormat: FileFormat {
    public static let name = "safetensors"
}

/// A safetensors failure. `reason` names the tensor, key or byte offset involved.
public typealias SafetensorsError = FileFormatError<SafetensorsFormat>
