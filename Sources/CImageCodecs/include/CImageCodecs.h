// Whole-image PNG/JPEG decode and encode over libpng and libjpeg; errors come back as codes + text.
#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of every operation. The message buffer always says why on failure.
typedef enum {
    DFC_OK = 0,
    DFC_NOT_AN_IMAGE = 1,   // leading bytes are neither a PNG signature nor FF D8 FF
    DFC_CORRUPT = 2,        // the codec reported an error or a corrupt-data warning
    DFC_TOO_LARGE = 3,      // over the caller's pixel cap (checked before any pixel buffer exists)
    DFC_UNSUPPORTED = 4,    // valid but unsupported (e.g. 12-bit JPEG)
    DFC_NO_MEMORY = 5,
    DFC_INVALID_ARGUMENT = 6
} dfc_status;

typedef enum { DFC_FORMAT_UNKNOWN = 0, DFC_FORMAT_PNG = 1, DFC_FORMAT_JPEG = 2 } dfc_format;

/// One PNG text chunk. tEXt/zTXt values are Latin-1, iTXt values UTF-8; key is Latin-1.
typedef struct {
    char *key;
    char *value;
    int kind;  // 0 tEXt, 1 zTXt, 2 iTXt
} dfc_text;

/// Result of a decode. Pixels are always RGBA8, row-major, width*height*4 bytes.
typedef struct {
    int format;            // dfc_format
    uint32_t width;
    uint32_t height;
    int has_alpha;         // PNG: alpha channel or tRNS present; JPEG: 0
    // PNG IHDR facts.
    int png_color_type;
    int png_bit_depth;
    int png_interlace;
    // JPEG facts.
    int jpeg_color_space;  // J_COLOR_SPACE of the file (1 gray, 2 rgb, 3 ycbcr, 4 cmyk, 5 ycck)
    int jpeg_components;
    int jpeg_precision;
    int jpeg_sof;          // SOF marker code (0xC0..0xCF), 0 if not found
    int jpeg_adobe_inverted;
    int orientation;       // EXIF orientation 1..8 (1 when absent or invalid)
    unsigned char *pixels;
    dfc_text *texts;
    size_t text_count;
    int warning_count;     // benign codec warnings that were ignored
    char message[512];
} dfc_image;

/// Input text chunk for PNG encoding.
typedef struct {
    const char *key;    // 1..79 bytes, Latin-1
    const char *value;  // Latin-1 for tEXt, UTF-8 for iTXt
    int use_itxt;
} dfc_text_in;

/// Sniffs the format from the leading bytes.
int dfc_sniff(const unsigned char *data, size_t size);

/// Decodes a whole PNG or JPEG held in memory. `max_pixels` caps width*height and is checked
/// before the pixel buffer is allocated. On failure `out->message` says why; call
/// `dfc_image_free` in every case.
int dfc_decode(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out);
void dfc_image_free(dfc_image *image);

/// Encodes 8-bit gray (1), RGB (3) or RGBA (4) pixels as PNG into a malloc'd buffer.
int dfc_encode_png(const unsigned char *pixels, uint32_t width, uint32_t height, int channels,
                   const dfc_text_in *texts, size_t text_count,
                   unsigned char **out, size_t *out_size, char *message, size_t message_size);

/// Encodes 8-bit gray (1) or RGB (3) pixels as baseline JPEG at `quality` (1...100).
int dfc_encode_jpeg(const unsigned char *pixels, uint32_t width, uint32_t height, int channels,
                    int quality, unsigned char **out, size_t *out_size,
                    char *message, size_t message_size);

void dfc_free(void *pointer);

#ifdef __cplusplus
}
#endif

#endif
