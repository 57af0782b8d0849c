// PNG and JPEG decoding (C codecs + Imaging): the same decoder, seeded with either corpus.
import Imaging

/// 4 Mpixel: big enough for every corpus file, small enough to keep each run fast.
private let decoder = ImageDecoder(maxPixels: 4 << 20)

func imageTarget(name: String) -> FuzzTarget {
    FuzzTarget(name: name, summary: "\(name.uppercased()) decoding (libpng/libjpeg shim, metadata, EXIF orientation)") { bytes in
        let decoded = try decoder.decode(bytes, name: "fuzz.\(name)")
        // What loading does next: the EXIF orientation, then float planes.
        _ = decoded.image.oriented(exif: decoded.metadata.orientation).floatPlanes().count
        _ = decoded.rgba8SHA256
    }
}
