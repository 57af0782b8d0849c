// PNG encode with libpng into memory: 8-bit gray, RGB or RGBA, with tEXt/iTXt chunks.
#include "internal.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *buffer;
    size_t size;
    size_t capacity;
    char *message;
    size_t message_size;
    png_text *texts;
} png_writer;

static void write_callback(png_structp png, png_bytep data, png_size_t length) {
    png_writer *writer = (png_writer *)png_get_io_ptr(png);
    if (length > writer->capacity - writer->size) {
        size_t capacity = writer->capacity ? writer->capacity : 65536;
        while (capacity - writer->size < length) capacity *= 2;
        unsigned char *grown = (unsigned char *)realloc(writer->buffer, capacity);
        if (grown == NULL) png_error(png, "out of memory for the encoded PNG");
        writer->buffer = grown;
        writer->capacity = capacity;
    }
    memcpy(writer->buffer + writer->size, data, length);
    writer->size += length;
}

static void flush_callback(png_structp png) { (void)png; }

static void encode_error(png_structp png, png_const_charp message) {
    png_writer *writer = (png_writer *)png_get_error_ptr(png);
    dfc_set_message(writer->message, writer->message_size, "%s", message);
    png_longjmp(png, 1);
}

static void encode_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

int dfc_encode_png(const unsigned char *pixels, uint32_t width, uint32_t height, int channels,
                   const dfc_text_in *texts, size_t text_count,
                   unsigned char **out, size_t *out_size, char *message, size_t message_size) {
    if (out == NULL || out_size == NULL || pixels == NULL || width == 0 || height == 0 ||
        (channels != 1 && channels != 3 && channels != 4) || (text_count > 0 && texts == NULL)) {
        dfc_set_message(message, message_size, "invalid PNG encode arguments");
        return DFC_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    png_writer *writer = (png_writer *)calloc(1, sizeof(png_writer));
    if (writer == NULL) return DFC_NO_MEMORY;
    writer->message = message;
    writer->message_size = message_size;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, writer, encode_error, encode_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (png == NULL || info == NULL) {
        png_destroy_write_struct(&png, NULL);
        free(writer);
        dfc_set_message(message, message_size, "out of memory (libpng)");
        return DFC_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(writer->buffer);
        free(writer->texts);
        free(writer);
        return DFC_CORRUPT;
    }
    png_set_write_fn(png, writer, write_callback, flush_callback);
    int color_type = channels == 1 ? PNG_COLOR_TYPE_GRAY : channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_RGBA;
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text_count > 0) {
        writer->texts = (png_text *)calloc(text_count, sizeof(png_text));
        if (writer->texts == NULL) png_error(png, "out of memory for text chunks");
        for (size_t i = 0; i < text_count; i++) {
            png_text *text = &writer->texts[i];
            text->compression = texts[i].use_itxt ? PNG_ITXT_COMPRESSION_NONE : PNG_TEXT_COMPRESSION_NONE;
            text->key = (png_charp)texts[i].key;
            text->text = (png_charp)texts[i].value;
            if (texts[i].use_itxt) {
                text->itxt_length = strlen(texts[i].value);
                text->lang = NULL;
                text->lang_key = NULL;
            } else {
                text->text_length = strlen(texts[i].value);
            }
        }
        png_set_text(png, info, writer->texts, (int)text_count);
    }
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = writer->buffer;
    *out_size = writer->size;
    free(writer->texts);
    free(writer);
    return DFC_OK;
}
