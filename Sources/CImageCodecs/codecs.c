// Format sniffing, decode dispatch and freeing for the PNG/JPEG codecs.
#include "internal.h"
#include <stdlib.h>
#include <string.h>

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

int dfc_sniff(const unsigned char *data, size_t size) {
    if (data == NULL) return DFC_FORMAT_UNKNOWN;
    if (size >= 8 && memcmp(data, png_signature, 8) == 0) return DFC_FORMAT_PNG;
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return DFC_FORMAT_JPEG;
    return DFC_FORMAT_UNKNOWN;
}

int dfc_decode(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out) {
    if (out == NULL) return DFC_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    out->orientation = 1;
    if (size == 0 || data == NULL) {
        dfc_set_message(out->message, sizeof(out->message), "empty file");
        return DFC_NOT_AN_IMAGE;
    }
    switch (dfc_sniff(data, size)) {
    case DFC_FORMAT_PNG:
        out->format = DFC_FORMAT_PNG;
        return dfc_decode_png(data, size, max_pixels, out);
    case DFC_FORMAT_JPEG:
        out->format = DFC_FORMAT_JPEG;
        return dfc_decode_jpeg(data, size, max_pixels, out);
    default:
        dfc_set_message(out->message, sizeof(out->message),
                        "not a PNG or JPEG (leading bytes %02X %02X %02X)",
                        data[0], size > 1 ? data[1] : 0, size > 2 ? data[2] : 0);
        return DFC_NOT_AN_IMAGE;
    }
}

void dfc_image_free(dfc_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
    for (size_t i = 0; i < image->text_count; i++) {
        free(image->texts[i].key);
        free(image->texts[i].value);
    }
    free(image->texts);
    image->texts = NULL;
    image->text_count = 0;
}

void dfc_free(void *pointer) { free(pointer); }
