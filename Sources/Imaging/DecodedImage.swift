// DecodedImage: the pixels of a decoded file together with its metadata.

/// A decoded file: pixels as stored (RGBA when the source has alpha or tRNS, else RGB) and metadata.
public struct DecodedImage {
    public var image: Image
    public var metadata: ImageMetadata

    /// SHA-256 of the pixels as 8-bit RGBA, row-major, no padding (the corpora's `rgba8_sha256`).
    public var rgba8SHA256: String { image.rgba8SHA256() }
}
