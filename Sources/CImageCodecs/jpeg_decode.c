// JPEG decode with libjpeg: any 8-bit JPEG to RGBA8; libjpeg warnings (corrupt or truncated data) are errors.
#include "internal.h"
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    int status;
    char message[JMSG_LENGTH_MAX];
} jpeg_failure;

static void error_exit(j_common_ptr cinfo) {
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    cinfo->err->format_message(cinfo, failure->message);
    int code = cinfo->err->msg_code;
    failure->status = (code == JERR_BAD_PRECISION || code == JERR_CONVERSION_NOTIMPL ||
                       code == JERR_NOT_COMPILED)
                          ? DFC_UNSUPPORTED : DFC_CORRUPT;
    longjmp(failure->jump, 1);
}

/// Level -1 is a warning. libjpeg warns (and fills with gray) on truncated or corrupt scan
/// data, so the first warning aborts the decode; trace messages (level >= 0) are ignored.
static void emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    cinfo->err->num_warnings++;
    cinfo->err->format_message(cinfo, failure->message);
    failure->status = DFC_CORRUPT;
    longjmp(failure->jump, 1);
}

static void output_message(j_common_ptr cinfo) { (void)cinfo; }

static unsigned read16(const unsigned char *p, int little) {
    return little ? (unsigned)(p[0] | (p[1] << 8)) : (unsigned)((p[0] << 8) | p[1]);
}

static uint32_t read32(const unsigned char *p, int little) {
    return little ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24))
                  : (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

/// EXIF orientation (tag 0x0112 in IFD0) from an APP1 payload; 1 when absent or malformed.
static int exif_orientation(const unsigned char *data, size_t size) {
    if (size < 14 || memcmp(data, "Exif\0\0", 6) != 0) return 1;
    const unsigned char *tiff = data + 6;
    size_t length = size - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read16(tiff + 2, little) != 42) return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if (ifd > length || length - ifd < 2) return 1;
    unsigned count = read16(tiff + ifd, little);
    for (unsigned i = 0; i < count; i++) {
        size_t entry = (size_t)ifd + 2 + (size_t)i * 12;
        if (entry + 12 > length) return 1;
        if (read16(tiff + entry, little) == 0x0112) {
            unsigned type = read16(tiff + entry + 2, little);
            if (type != 3) return 1;  // SHORT
            unsigned value = read16(tiff + entry + 8, little);
            return (value >= 1 && value <= 8) ? (int)value : 1;
        }
    }
    return 1;
}

/// The first SOFn marker code, found by walking marker segments (bounded by the data).
static int find_sof(const unsigned char *data, size_t size) {
    size_t offset = 2;
    while (offset + 4 <= size) {
        if (data[offset] != 0xFF) return 0;
        unsigned char marker = data[offset + 1];
        if (marker == 0xFF) { offset++; continue; }
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
            return marker;
        if (marker == 0xD9 || marker == 0xDA) return 0;
        size_t length = ((size_t)data[offset + 2] << 8) | data[offset + 3];
        if (length < 2) return 0;
        offset += 2 + length;
    }
    return 0;
}

static inline unsigned char mul255(unsigned a, unsigned b) { return (unsigned char)((a * b + 127) / 255); }

int dfc_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out) {
    // Heap-held so its contents are reliable after a longjmp.
    struct jpeg_decompress_struct *cinfo = calloc(1, sizeof(struct jpeg_decompress_struct));
    jpeg_failure *failure = calloc(1, sizeof(jpeg_failure));
    if (cinfo == NULL || failure == NULL) {
        free(cinfo);
        free(failure);
        dfc_set_message(out->message, sizeof(out->message), "out of memory");
        return DFC_NO_MEMORY;
    }
    out->jpeg_sof = find_sof(data, size);
    cinfo->err = jpeg_std_error(&failure->manager);
    failure->manager.error_exit = error_exit;
    failure->manager.emit_message = emit_message;
    failure->manager.output_message = output_message;
    failure->status = DFC_CORRUPT;

    if (setjmp(failure->jump)) {
        int status = failure->status;
        if (status == DFC_UNSUPPORTED && failure->manager.msg_code == JERR_BAD_PRECISION)
            dfc_set_message(out->message, sizeof(out->message),
                            "unsupported JPEG sample precision %d (only 8-bit JPEG is supported)",
                            cinfo->data_precision);
        else if (out->message[0] == 0)
            dfc_set_message(out->message, sizeof(out->message), "%s", failure->message);
        jpeg_destroy_decompress(cinfo);
        free(cinfo);
        free(failure);
        free(out->pixels);
        out->pixels = NULL;
        return status;
    }

    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    out->width = cinfo->image_width;
    out->height = cinfo->image_height;
    out->jpeg_color_space = cinfo->jpeg_color_space;
    out->jpeg_components = cinfo->num_components;
    out->jpeg_precision = cinfo->data_precision;
    out->jpeg_adobe_inverted = cinfo->saw_Adobe_marker;
    for (jpeg_saved_marker_ptr marker = cinfo->marker_list; marker != NULL; marker = marker->next) {
        if (marker->marker == JPEG_APP0 + 1) {
            int orientation = exif_orientation(marker->data, marker->data_length);
            if (orientation != 1) { out->orientation = orientation; break; }
        }
    }

    if ((uint64_t)cinfo->image_width * cinfo->image_height > max_pixels) {
        failure->status = DFC_TOO_LARGE;
        dfc_set_message(out->message, sizeof(out->message),
                        "image is %ux%u, above the limit of %llu pixels",
                        (unsigned)cinfo->image_width, (unsigned)cinfo->image_height,
                        (unsigned long long)max_pixels);
        longjmp(failure->jump, 1);
    }

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // gray expands to RGB
    jpeg_start_decompress(cinfo);

    unsigned width = cinfo->output_width, height = cinfo->output_height;
    int components = cinfo->output_components;
    if ((cmyk && components != 4) || (!cmyk && components != 3)) {
        failure->status = DFC_UNSUPPORTED;
        dfc_set_message(out->message, sizeof(out->message), "unsupported JPEG output with %d components", components);
        longjmp(failure->jump, 1);
    }
    out->pixels = (unsigned char *)malloc((size_t)width * height * 4);
    JSAMPARRAY row = (*cinfo->mem->alloc_sarray)((j_common_ptr)cinfo, JPOOL_IMAGE, width * (unsigned)components, 1);
    if (out->pixels == NULL) {
        failure->status = DFC_NO_MEMORY;
        dfc_set_message(out->message, sizeof(out->message), "out of memory for %ux%u pixels", width, height);
        longjmp(failure->jump, 1);
    }
    int inverted = cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < height) {
        unsigned y = cinfo->output_scanline;
        jpeg_read_scanlines(cinfo, row, 1);
        const unsigned char *source = row[0];
        unsigned char *target = out->pixels + (size_t)y * width * 4;
        for (unsigned x = 0; x < width; x++) {
            if (cmyk) {
                // Adobe files store inverted CMYK (255 = no ink): R = C*K/255. Plain CMYK: R = (255-C)(255-K)/255.
                unsigned c = source[4 * x], m = source[4 * x + 1], yy = source[4 * x + 2], k = source[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                target[4 * x] = mul255(c, k);
                target[4 * x + 1] = mul255(m, k);
                target[4 * x + 2] = mul255(yy, k);
            } else {
                target[4 * x] = source[3 * x];
                target[4 * x + 1] = source[3 * x + 1];
                target[4 * x + 2] = source[3 * x + 2];
            }
            target[4 * x + 3] = 255;
        }
    }
    jpeg_finish_decompress(cinfo);
    jpeg_destroy_decompress(cinfo);
    free(cinfo);
    free(failure);
    return DFC_OK;
}
