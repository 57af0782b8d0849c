// JPEG encode with libjpeg into memory: 8-bit gray or RGB at a chosen quality.
#include "internal.h"
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
} encode_failure;

static void encode_error_exit(j_common_ptr cinfo) { longjmp(((encode_failure *)cinfo->err)->jump, 1); }
static void encode_output_message(j_common_ptr cinfo) { (void)cinfo; }

int dfc_encode_jpeg(const unsigned char *pixels, uint32_t width, uint32_t height, int channels,
                    int quality, unsigned char **out, size_t *out_size,
                    char *message, size_t message_size) {
    if (out == NULL || out_size == NULL || pixels == NULL || width == 0 || height == 0 ||
        width > 65500 || height > 65500 || (channels != 1 && channels != 3) || quality < 1 || quality > 100) {
        dfc_set_message(message, message_size, "invalid JPEG encode arguments");
        return DFC_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    struct jpeg_compress_struct *cinfo = calloc(1, sizeof(struct jpeg_compress_struct));
    encode_failure *failure = calloc(1, sizeof(encode_failure));
    // jpeg_mem_dest writes its buffer pointer and size through these, so they live on the heap too.
    unsigned char **buffer = calloc(1, sizeof(unsigned char *));
    unsigned long *size = calloc(1, sizeof(unsigned long));
    if (cinfo == NULL || failure == NULL || buffer == NULL || size == NULL) {
        free(cinfo); free(failure); free(buffer); free(size);
        dfc_set_message(message, message_size, "out of memory");
        return DFC_NO_MEMORY;
    }
    cinfo->err = jpeg_std_error(&failure->manager);
    failure->manager.error_exit = encode_error_exit;
    failure->manager.output_message = encode_output_message;
    if (setjmp(failure->jump)) {
        char text[JMSG_LENGTH_MAX];
        failure->manager.format_message((j_common_ptr)cinfo, text);
        dfc_set_message(message, message_size, "%s", text);
        jpeg_destroy_compress(cinfo);
        free(*buffer);
        free(cinfo); free(failure); free(buffer); free(size);
        return DFC_CORRUPT;
    }
    jpeg_create_compress(cinfo);
    jpeg_mem_dest(cinfo, buffer, size);
    cinfo->image_width = width;
    cinfo->image_height = height;
    cinfo->input_components = channels;
    cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    if (channels == 3 && quality >= 90) {
        // At high quality keep full-resolution chroma (4:4:4) instead of 4:2:0.
        cinfo->comp_info[0].h_samp_factor = 1;
        cinfo->comp_info[0].v_samp_factor = 1;
    }
    cinfo->optimize_coding = TRUE;
    jpeg_start_compress(cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo->next_scanline < height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * stride);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    jpeg_destroy_compress(cinfo);
    // jpeg_mem_dest allocates with malloc, so dfc_free releases it.
    *out = *buffer;
    *out_size = (size_t)*size;
    free(cinfo); free(failure); free(buffer); free(size);
    return DFC_OK;
}
