// Helpers shared by the codec files (not part of the public header).
#ifndef DFC_INTERNAL_H
#define DFC_INTERNAL_H

#include "CImageCodecs.h"
#include <stdarg.h>
#include <stdio.h>

int dfc_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out);
int dfc_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, dfc_image *out);

/// printf into a fixed message buffer (always NUL-terminated).
static inline void dfc_set_message(char *buffer, size_t size, const char *format, ...) {
    if (buffer == NULL || size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(buffer, size, format, args);
    va_end(args);
}

#endif
