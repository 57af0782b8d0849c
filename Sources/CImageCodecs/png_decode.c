// PNG decode with libpng's png_read_* transforms (no gamma): any PNG to RGBA8, plus IHDR facts and text chunks.
#include "internal.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    dfc_image *out;
    png_bytep *rows;
} png_context;

static void read_callback(png_structp png, png_bytep target, png_size_t length) {
    png_context *context = (png_context *)png_get_io_ptr(png);
    if (length > context->size - context->offset) {
        png_error(png, "unexpected end of file (truncated, or a chunk length runs past the end)");
    }
    memcpy(target, context->data + context->offset, length);
    context->offset += length;
}

static void error_callback(png_structp png, png_const_charp message) {
    png_context *context = (png_context *)png_get_error_ptr(png);
    dfc_set_message(context->out->message, sizeof(context->out->message), "%s", message);
    png_longjmp(png, 1);
}

/// Warnings that mean the data itself is damaged are errors; the rest (bad ancillary
/// metadata such as an invalid gAMA or a known-incorrect iCCP profile) are counted and ignored.
static int warning_is_fatal(const char *message) {
    static const char *fatal[] = {"CRC error", "incorrect data check", "Not enough image data",
                                  "Too much image data", "Read Error", "Truncated", NULL};
    for (int i = 0; fatal[i] != NULL; i++)
        if (strstr(message, fatal[i]) != NULL) return 1;
    return 0;
}

static void warning_callback(png_structp png, png_const_charp message) {
    png_context *context = (png_context *)png_get_error_ptr(png);
    if (warning_is_fatal(message)) {
        dfc_set_message(context->out->message, sizeof(context->out->message), "%s", message);
        png_longjmp(png, 1);
    }
    context->out->warning_count++;
}

static char *copy_string(const char *text) {
    size_t length = text ? strlen(text) : 0;
    char *copy = (char *)malloc(length + 1);
    if (copy == NULL) return NULL;
    if (length) memcpy(copy, text, length);
    copy[length] = 0;
    return copy;
}

/// Copies libpng's text chunks out; returns 0 when memory ran out.
static int collect_text(png_structp png, png_infop info, dfc_image *out) {
    png_textp texts = NULL;
    int count = 0;
    png_get_text(png, info, &texts, &count);
    if (count <= 0 || texts == NULL) return 1;
    out->texts = (dfc_text *)calloc((size_t)count, sizeof(dfc_text));
    if (out->texts == NULL) return 0;
    for (int i = 0; i < count; i++) {
        dfc_text *text = &out->texts[out->text_count];
        text->key = copy_string(texts[i].key);
        text->value = copy_string(texts[i].text);
        out->text_count++;
        if (text->key == NULL || text->value == NULL) return 0;
        switch (texts[i].compression) {
        case PNG_TEXT_COMPRESSION_NONE: text->kind = 0; break;
        case PNG_TEXT_COMPRESSION_zTXt: text->kind = 1; break;
        default: text->kind = 2; break;
        }
    }
    return 1;
}

/// Reads the IHDR size straight from the bytes so the pixel cap is applied before libpng
/// even parses the header; libpng checks the same values again later.
static int ihdr_exceeds_cap(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out) {
    if (size < 24 || memcmp(data + 12, "IHDR", 4) != 0) return 0;
    uint64_t width = ((uint64_t)data[16] << 24) | ((uint64_t)data[17] << 16) | ((uint64_t)data[18] << 8) | data[19];
    uint64_t height = ((uint64_t)data[20] << 24) | ((uint64_t)data[21] << 16) | ((uint64_t)data[22] << 8) | data[23];
    if (width * height <= max_pixels) return 0;
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    dfc_set_message(out->message, sizeof(out->message),
                    "image is %llux%llu (%llu pixels), above the limit of %llu pixels",
                    (unsigned long long)width, (unsigned long long)height,
                    (unsigned long long)(width * height), (unsigned long long)max_pixels);
    return 1;
}

/// Walks the chunk framing up to IEND and rejects any chunk whose declared length runs past
/// the end of the data. libpng would otherwise allocate and clear the declared size first
/// (1 GB for crashers-huge_*_chunk.png) before noticing the file ends.
static int chunk_runs_past_end(const unsigned char *data, size_t size, dfc_image *out) {
    size_t offset = 8;
    while (size >= 8 && offset <= size - 8) {
        uint64_t length = ((uint64_t)data[offset] << 24) | ((uint64_t)data[offset + 1] << 16) |
                          ((uint64_t)data[offset + 2] << 8) | data[offset + 3];
        char type[5] = {0};
        for (int i = 0; i < 4; i++) {
            unsigned char c = data[offset + 4 + i];
            type[i] = (c >= 33 && c <= 126) ? (char)c : '?';
        }
        uint64_t remaining = (uint64_t)(size - offset - 8);
        if (length + 4 > remaining) {
            dfc_set_message(out->message, sizeof(out->message),
                            "truncated: chunk %s at offset %zu declares %llu bytes but only %llu remain",
                            type, offset, (unsigned long long)length,
                            (unsigned long long)(remaining >= 4 ? remaining - 4 : 0));
            return 1;
        }
        if (memcmp(type, "IEND", 4) == 0) return 0;
        offset += 12 + (size_t)length;
    }
    return 0;  // a file that stops between chunks is left to libpng, which reports it
}

int dfc_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out) {
    if (ihdr_exceeds_cap(data, size, max_pixels, out)) return DFC_TOO_LARGE;
    if (chunk_runs_past_end(data, size, out)) return DFC_CORRUPT;

    // Heap-held so that what it points to survives a longjmp (locals changed after setjmp may not).
    png_context *context = (png_context *)calloc(1, sizeof(png_context));
    if (context == NULL) {
        dfc_set_message(out->message, sizeof(out->message), "out of memory");
        return DFC_NO_MEMORY;
    }
    context->data = data;
    context->size = size;
    context->out = out;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, context, error_callback, warning_callback);
    if (png == NULL) {
        free(context);
        dfc_set_message(out->message, sizeof(out->message), "out of memory (libpng)");
        return DFC_NO_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        free(context);
        dfc_set_message(out->message, sizeof(out->message), "out of memory (libpng)");
        return DFC_NO_MEMORY;
    }
    volatile int status = DFC_CORRUPT;
    if (setjmp(png_jmpbuf(png))) {
        free(context->rows);
        free(context);
        png_destroy_read_struct(&png, &info, NULL);
        free(out->pixels);
        out->pixels = NULL;
        if (out->message[0] == 0) dfc_set_message(out->message, sizeof(out->message), "corrupt PNG");
        return status;
    }

    png_set_user_limits(png, 65536, 65536);
    // Bounds for what chunks may make libpng allocate (inflated zTXt/iCCP, chunk count).
    png_set_chunk_malloc_max(png, size + 1 > (64u << 20) ? size + 1 : (64u << 20));
    png_set_chunk_cache_max(png, 1000);
    png_set_read_fn(png, context, read_callback);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    out->width = width;
    out->height = height;
    out->png_color_type = color_type;
    out->png_bit_depth = bit_depth;
    out->png_interlace = interlace;
    out->has_alpha = (color_type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        status = DFC_TOO_LARGE;
        dfc_set_message(out->message, sizeof(out->message),
                        "image is %ux%u, above the limit of %llu pixels",
                        (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        png_longjmp(png, 1);
    }

    // The reference transforms: expand palette / low-bit gray / tRNS, 16 -> 8 by high byte,
    // gray -> RGB, opaque alpha filler, de-interlace. No gamma handling at all.
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_gray_to_rgb(png);
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes != (size_t)width * 4) {
        status = DFC_UNSUPPORTED;
        dfc_set_message(out->message, sizeof(out->message),
                        "unexpected row size %zu after transforms (width %u)", row_bytes, (unsigned)width);
        png_longjmp(png, 1);
    }
    out->pixels = (unsigned char *)malloc(row_bytes * height);
    context->rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (out->pixels == NULL || context->rows == NULL) {
        status = DFC_NO_MEMORY;
        dfc_set_message(out->message, sizeof(out->message), "out of memory for %ux%u pixels",
                        (unsigned)width, (unsigned)height);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) context->rows[y] = out->pixels + (size_t)y * row_bytes;
    png_read_image(png, context->rows);
    png_read_end(png, info);  // checks the last CRCs and picks up text chunks after IDAT

    if (!collect_text(png, info, out)) {
        status = DFC_NO_MEMORY;
        dfc_set_message(out->message, sizeof(out->message), "out of memory for text chunks");
        png_longjmp(png, 1);
    }
    free(context->rows);
    free(context);
    png_destroy_read_struct(&png, &info, NULL);
    return DFC_OK;
}
